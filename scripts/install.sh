#!/usr/bin/env bash
# Installs QueueChat into ./.venv (Python 3.11) from the lock file and puts the default model
# into models/. Usage: scripts/install.sh [extras]   e.g. scripts/install.sh dev,inference
#
# Every Python dependency is pinned in uv.lock with its hashes and installed by `uv sync --locked`
# (a pyproject.toml that disagrees with the lock stops here: run `.venv/bin/uv lock`). Two are
# installed beside the lock: torch (pip, the CPU build: PyPI's Linux torch is the CUDA build, GBs)
# and llama-cpp-python (built once per machine into a wheel cache). Each step prints its time.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-inference,ingest}"
uv_version="0.13.8"
started_all="$(date +%s.%N)"
step() {  # step NAME COMMAND...: runs it and prints how long it took
  local name="$1" started
  shift
  started="$(date +%s.%N)"
  "$@"
  awk -v name="$name" -v from="$started" -v to="$(date +%s.%N)" \
    'BEGIN { printf "[install] %-28s %6.1f s\n", name, to - from }' >&2
}
has_extra() { case ",$extras," in *,"$1",*) return 0 ;; esac; return 1; }

python_bin="$(command -v python3.11 || command -v python3)"
"$python_bin" -c 'import sys; assert sys.version_info[:2] == (3, 11), "QueueChat needs Python 3.11"'
make_venv() { [ -x .venv/bin/python ] || "$python_bin" -m venv .venv; }
step "virtualenv" make_venv

install_uv() {
  if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$uv_version" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check "uv==$uv_version"
  fi
}
step "uv $uv_version" install_uv

# torch first, pinned, by pip: 2.13.0 is the CPU build where pip finds it (the machine's wheels,
# or PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu as CI sets); its dependencies are
# in the lock.
install_torch() {
  if ! .venv/bin/python -c 'import importlib.metadata as m, sys; sys.exit(not m.version("torch").startswith("2.13.0"))' 2>/dev/null; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-compile --no-deps torch==2.13.0
  fi
}
if has_extra ingest; then step "torch (CPU build)" install_torch; fi

# llama-cpp-python compiles from source (minutes), once per machine: the wheel is kept under
# ~/.cache/queuechat/wheels. It is built for portable x86-64 (AVX2/FMA/F16C) rather than
# -march=native: a native build picks up CPU features such as AMX that a VM may advertise but
# not enable (SIGILL at the first matrix multiply), and a cache copied to another host must run.
# LLAMA_CMAKE_ARGS overrides the flags (e.g. "-DGGML_CUDA=on" for NVIDIA GPUs).
llama_cmake_args="${LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_LLAMAFILE=OFF}"
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/queuechat/wheels/$(printf '%s' "$llama_cmake_args" | sha256sum | cut -c1-12)"
install_llama() {
  local llama_version marker
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
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-compile --force-reinstall \
      --no-deps "$(llama_wheel)"
    touch "$marker"
  fi
}
if has_extra inference; then step "llama-cpp-python (wheel)" install_llama; fi

# Everything else, exactly as locked. --inexact keeps torch and the llama-cpp-python wheel,
# which the lock names but pip installed.
sync_locked() {
  local extra_args=() extra names
  IFS=',' read -ra names <<< "$extras"
  for extra in "${names[@]}"; do [ -n "$extra" ] && extra_args+=(--extra "$extra"); done
  UV_PROJECT_ENVIRONMENT=.venv .venv/bin/uv sync --locked --inexact --quiet \
    --no-install-package torch --no-install-package llama-cpp-python "${extra_args[@]}"
}
step "locked dependencies (uv)" sync_locked
step "model" .venv/bin/python scripts/fetch_model.py

# The web UI, built into frontend/dist (the web process serves it), when Node.js 20+ is there.
build_frontend() {
  (
    cd frontend
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
    # built again only when a source is newer than the last build
    if [ ! -f dist/index.html ] || [ -n "$(find src public index.html package.json package-lock.json tsconfig.json vite.config.* \
        -newer dist/index.html -print -quit 2>/dev/null)" ]; then
      npm run build --silent
    fi
  )
}
if command -v npm >/dev/null 2>&1; then
  step "web UI (npm)" build_frontend
else
  echo "npm not found: the web UI is not built (install Node.js 20+, then run this again)" >&2
fi
awk -v from="$started_all" -v to="$(date +%s.%N)" \
  'BEGIN { printf "[install] %-28s %6.1f s\n", "total", to - from }' >&2
