"""Writes the OpenAPI spec the app generates to frontend/openapi.json, without a server."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.config import PROJECT_ROOT, Settings  # noqa: E402

SPEC_PATH = PROJECT_ROOT / "frontend" / "openapi.json"


def generate() -> str:
    with tempfile.TemporaryDirectory() as var_dir:
        settings = Settings(var_dir=Path(var_dir), database_url="sqlite://",
                            jwt_secret_key="spec-only")  # fmt: skip
        app = create_app(settings)
        spec = app.test_client().get("/api/openapi.json").json
        app.extensions["queuechat"].db.dispose()
    return json.dumps(spec, indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    SPEC_PATH.write_text(generate())
    print(f"wrote {SPEC_PATH}")
