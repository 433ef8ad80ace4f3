#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite (lint, types, pytest on SQLite and
# PostgreSQL with a real Redis, real Celery workers and the real model).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev,inference,ingest
bash scripts/test-services.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest "$@"
