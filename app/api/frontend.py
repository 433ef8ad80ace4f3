"""Serves the built React app (frontend/dist) with an index.html fallback for client routes."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory

from app.config import PROJECT_ROOT
from app.errors import NotFound

DIST = PROJECT_ROOT / "frontend" / "dist"
bp = Blueprint("frontend", __name__)


@bp.get("/")
@bp.get("/<path:path>")
def spa(path: str = "") -> Response:
    if path.startswith(("api/", "ws", "v1/")):
        raise NotFound("not found")
    if not (DIST / "index.html").exists():
        raise NotFound("the web UI is not built: run scripts/run.sh (it builds frontend/)")
    candidate = DIST / path
    if path and candidate.is_file() and DIST in candidate.resolve().parents:
        response = send_from_directory(DIST, path, max_age=31536000 if "assets/" in path else 0)
    else:
        response = send_from_directory(DIST, "index.html", max_age=0)
    return response
