#!/usr/bin/env bash
# Installs (first time) and runs the whole system: Redis if none answers, migrations,
# first admin, web server, inference + ingest workers and Flower. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh inference,ingest
exec .venv/bin/python scripts/launch.py
