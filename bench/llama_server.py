"""llama-server built from the llama.cpp sources vendored in the pinned llama-cpp-python sdist.

The peer of the inference benchmarks: same llama.cpp, same CMake flags as the project's wheel
(scripts/install.sh: LLAMA_CMAKE_ARGS or its portable x86-64 default), built once and cached
beside that wheel (~/.cache/queuechat/llama-server/<hash of the flags>/).

Run: .venv/bin/python -m bench.llama_server   (prints the binary's path)
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from scripts.pinned import pinned
from testkit.processes import free_port

DEFAULT_FLAGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
    " -DGGML_LLAMAFILE=OFF"
)


def cmake_flags() -> str:
    return os.environ.get("LLAMA_CMAKE_ARGS") or DEFAULT_FLAGS


def binary_path() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    version = pinned("llama-cpp-python")
    digest = hashlib.sha256(cmake_flags().encode()).hexdigest()[:12]
    return cache / "queuechat" / "llama-server" / f"{version}-{digest}" / "llama-server"


def build() -> Path:
    """The cached binary, built first when missing (minutes)."""
    target = binary_path()
    if target.exists():
        return target
    version = pinned("llama-cpp-python")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "-d", str(work), f"llama-cpp-python=={version}"],
            check=True,
        )  # fmt: skip
        sdist = next(work.glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(sdist) as archive:
            archive.extractall(work, filter="data")
        source = next(work.glob("llama_cpp_python-*/vendor/llama.cpp"))
        build_dir = work / "build"
        subprocess.run(
            ["cmake", "-S", str(source), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
             "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
             "-DLLAMA_BUILD_SERVER=ON", "-DBUILD_SHARED_LIBS=OFF", *shlex.split(cmake_flags())],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        subprocess.run(
            ["cmake", "--build", str(build_dir), "--target", "llama-server",
             "-j", str(os.cpu_count() or 1)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        target.parent.mkdir(parents=True, exist_ok=True)
        (build_dir / "bin" / "llama-server").replace(target)
    return target


@contextmanager
def llama_server(
    model: Path, *, threads: int, parallel: int, n_ctx_seq: int, n_batch: int
) -> Iterator[str]:
    """A running llama-server (loopback only) with one slot per parallel reply; its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [str(build()), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
         "-t", str(threads), "-tb", str(threads), "-np", str(parallel),
         "-c", str(n_ctx_seq * parallel), "-b", str(n_batch), "-ub", str(n_batch),
         "--flash-attn", "off", "--no-webui", "--log-disable"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("llama-server exited at start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    print(build())  # noqa: T201
