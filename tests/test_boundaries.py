"""The web process never imports model code (llama_cpp, torch, chromadb) or workers/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.config import PROJECT_ROOT


def test_web_process_imports_no_model_code(tmp_path: Path) -> None:
    script = (
        "import sys, json\n"
        "from app import create_app\n"
        "from app.config import Settings\n"
        f"app = create_app(Settings(var_dir={str(tmp_path)!r}))\n"
        "app.test_client().get('/api/openapi.json')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'llama_cpp', 'torch', 'chromadb', 'sentence_transformers', 'workers'})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
