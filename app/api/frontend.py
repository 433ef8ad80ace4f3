"""Serves the built React app (frontend/dist) with an index.html fallback for client routes."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import PathConverter

from app.config import PROJECT_ROOT
from app.errors import NotFound

DIST = PROJECT_ROOT / "frontend" / "dist"
bp = Blueprint("frontend", __name__)


class ClientRoute(PathConverter):
    """Any path but the API's: /api/..., /v1/... and /ws never match the UI's GET route, so a
    wrong method there is a 405 whose Allow header lists only the API's own methods."""

    regex = r"(?!(?:api|v1)(?:/|$)|ws(?:/|$))[^/].*?"


@bp.record_once
def add_converter(state: BlueprintSetupState) -> None:  # before the routes below are added
    state.app.url_map.converters["client_route"] = ClientRoute


@bp.get("/")
@bp.get("/<client_route:path>")
def spa(path: str = "") -> Response:
    if not (DIST / "index.html").exists():
        raise NotFound("the web UI is not built: run scripts/run.sh (it builds frontend/)")
    candidate = DIST / path
    if path and candidate.is_file() and DIST in candidate.resolve().parents:
        response = send_from_directory(DIST, path, max_age=31536000 if "assets/" in path else 0)
    else:
        response = send_from_directory(DIST, "index.html", max_age=0)
    return response
