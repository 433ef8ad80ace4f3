#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite (lint, types, pytest on SQLite and
# PostgreSQL with a real Redis, real Celery workers and the real model).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev,inference,ingest
bash scripts/test-services.sh
# Debian's Chromium for the browser tests in tests/e2e (Playwright drives it; no browser download),
# and promtool and amtool for the alert rules' and Alertmanager's checks (tests/deploy/test_alerts.py).
wanted=()
[ -x /usr/bin/chromium ] || wanted+=(chromium)
command -v promtool >/dev/null || wanted+=(prometheus)
command -v amtool >/dev/null || wanted+=(prometheus-alertmanager)
if [ "${#wanted[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${wanted[@]}" >/dev/null
fi
command -v npm >/dev/null || { echo "the frontend tests need Node.js 20+ and npm" >&2; exit 1; }
(cd frontend && npm test --silent)
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest "$@"
