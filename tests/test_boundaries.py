"""The web process never imports model code (llama_cpp, torch, chromadb) or workers/, and every
import follows the layers of scripts/layout.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grimp

from app.config import PROJECT_ROOT
from scripts.layout import allowed, check, layer_of, layer_violations


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


def test_every_import_follows_the_layers() -> None:
    """The layer check of `python -m scripts.layout` (also module sizes) finds nothing."""
    assert check() == []


def test_the_layer_check_reports_imports_against_the_order() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [
        ("workers.ingest.pipeline", "app.api.deps"),  # a worker reaching into HTTP code
        ("app.services.replies", "app.api.deps"),  # a service above its layer
        ("app.api.messages", "workers.inference.model"),  # web code loading model code
        ("app.models", "app.services.accounts"),  # foundation above its layer
        ("app.api.messages", "app.services.replies"),  # allowed
        ("workers.inference.tasks", "app.services.prompting"),  # allowed
        ("app.ws.chat", "app.api.tokens"),  # allowed
        ("app.services.chats", "flask"),  # a service reading the request
        ("workers.context", "app.extensions"),  # a worker reaching for the Flask app
        ("app.api.deps", "flask"),  # allowed
    ]:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    problems = layer_violations(graph)
    assert [problem.split(", line")[0] for problem in problems] == [
        "app.api.messages (api) imports workers.inference.model (workers)",
        "app.models (foundation) imports app.services.accounts (services)",
        "app.services.chats (services) imports Flask",
        "app.services.replies (services) imports app.api.deps (api)",
        "workers.context (workers) imports app.extensions (foundation)",
        "workers.ingest.pipeline (workers) imports app.api.deps (api)",
    ]


def test_each_package_has_one_layer() -> None:
    assert layer_of("app.config").name == "foundation"
    assert layer_of("app.schemas.messages").name == "schemas"
    assert layer_of("app.services.replies").name == "services"
    assert layer_of("app.api.deps").name == "api"
    assert layer_of("app.ws.relay").name == "ws"
    assert layer_of("app").name == "factory"
    assert layer_of("app.cli.batch").name == "cli"
    assert layer_of("workers.inference.tasks").name == "workers"
    assert not allowed(layer_of("workers"), layer_of("app.api"))
    assert not allowed(layer_of("app.api"), layer_of("workers"))
    assert allowed(layer_of("app.cli"), layer_of("app"))
