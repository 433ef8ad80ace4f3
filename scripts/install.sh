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
# llama-cpp-python compiles from source (minutes), once per machine: the wheel is kept under
# ~/.cache/queuechat/wheels. It is built for portable x86-64 (AVX2/FMA/F16C) rather than
# -march=native: a native build picks up CPU features such as AMX that a VM may advertise but
# not enable (SIGILL at the first matrix multiply), and a cache copied to another host must run.
# LLAMA_CMAKE_ARGS overrides the flags (e.g. "-DGGML_CUDA=on" for NVIDIA GPUs).
llama_cmake_args="${LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}"
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/queuechat/wheels/$(printf '%s' "$llama_cmake_args" | sha256sum | cut -c1-12)"
case ",$extras," in
  *,inference,*)
    llama_version="$(.venv/bin/python scripts/pinned.py llama-cpp-python)"
    llama_wheel() { ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl 2>/dev/null | head -n 1; }
    if [ -z "$(llama_wheel)" ]; then
      mkdir -p "$wheels"
      CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" CMAKE_ARGS="$llama_cmake_args" \
        .venv/bin/python -m pip wheel -q --no-cache-dir --no-deps -w "$wheels" \
        "llama-cpp-python==$llama_version"
    fi
    # Whatever llama-cpp-python the venv had (e.g. a native build from pip's cache) is replaced.
    marker=".venv/.llama-cpp-python-$llama_version-$(basename "$wheels")"
    if [ ! -f "$marker" ]; then
      .venv/bin/python -m pip install -q --force-reinstall --no-deps "$(llama_wheel)"
      touch "$marker"
    fi
    ;;
esac
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
