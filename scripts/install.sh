#!/usr/bin/env bash
# Installs QueueChat into ./.venv (Python 3.11) and puts the default model into models/.
# Usage: scripts/install.sh [extras]   e.g. scripts/install.sh dev,inference
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-inference,ingest}"
python_bin="$(command -v python3.11 || command -v python3)"
"$python_bin" -c 'import sys; assert sys.version_info[:2] == (3, 11), "QueueChat needs Python 3.11"'
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch first, pinned: 2.13.0 is the CPU build (any other pulls GBs of CUDA wheels).
case ",$extras," in *,ingest,*) .venv/bin/python -m pip install -q torch==2.13.0 ;; esac
# llama-cpp-python compiles from source the first time (minutes); pip caches the wheel.
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  .venv/bin/python -m pip install -q -e ".[${extras}]"
.venv/bin/python scripts/fetch_model.py
# The web UI, built into frontend/dist (the web process serves it), when Node.js 20+ is there.
if command -v npm >/dev/null 2>&1; then
  (
    cd frontend
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
    npm run build --silent
  )
else
  echo "npm not found: the web UI is not built (install Node.js 20+, then run this again)" >&2
fi
