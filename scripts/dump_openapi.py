"""Writes the app's OpenAPI spec to frontend/openapi.json (no server needed), then regenerates
the frontend's API types from it (frontend/src/api/schema.d.ts) when npm is installed.

Run it after any change to the API: tests/test_openapi_file.py fails while either file is stale.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.config import PROJECT_ROOT, Settings  # noqa: E402

FRONTEND = PROJECT_ROOT / "frontend"
SPEC_PATH = FRONTEND / "openapi.json"
TYPES_PATH = FRONTEND / "src" / "api" / "schema.d.ts"
GENERATOR = FRONTEND / "node_modules" / ".bin" / "openapi-typescript"
GENERATOR_ARGS = ["--default-non-nullable", "false"]  # keep in step with `npm run gen:api`


def generate() -> str:
    with tempfile.TemporaryDirectory() as var_dir:
        settings = Settings(var_dir=Path(var_dir), database_url="sqlite://",
                            jwt_secret_key="spec-only")  # fmt: skip
        app = create_app(settings)
        spec = app.test_client().get("/api/openapi.json").json
        app.extensions["queuechat"].db.dispose()
    return json.dumps(spec, indent=2) + "\n"


def generate_types(spec: Path, output: Path) -> None:
    subprocess.run([str(GENERATOR), str(spec), *GENERATOR_ARGS, "-o", str(output)],
                   cwd=FRONTEND, check=True, capture_output=True)  # fmt: skip


if __name__ == "__main__":
    SPEC_PATH.write_text(generate())
    print(f"wrote {SPEC_PATH}")
    if GENERATOR.exists() and shutil.which("node"):
        generate_types(SPEC_PATH, TYPES_PATH)
        print(f"wrote {TYPES_PATH}")
    else:
        print("frontend/node_modules is missing: run `npm ci` in frontend/, then this again")
