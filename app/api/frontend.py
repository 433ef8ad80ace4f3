"""Serves the built React app (frontend/dist) with an index.html fallback for client routes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, send_from_directory
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import PathConverter
from whitenoise import WhiteNoise

from app.config import PROJECT_ROOT
from app.errors import NotFound

DIST = PROJECT_ROOT / "frontend" / "dist"
ASSETS_MAX_AGE_S = 31536000  # hashed names: a changed file is a new name
bp = Blueprint("frontend", __name__)


def serve_assets(app: Flask) -> None:
    """The UI's hashed assets through WhiteNoise, before Flask: the .br or .gz copy the build
    wrote (scripts/compress.mjs) to a client that accepts it, cached for a year as immutable,
    with ETag and 304s. Found when the process starts; others (a build made later) fall
    through to the route below."""

    def nosniff(headers: Any, path: str, url: str) -> None:
        headers["X-Content-Type-Options"] = "nosniff"

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(DIST / "assets") if (DIST / "assets").is_dir() else None,
        prefix="assets/",
        max_age=ASSETS_MAX_AGE_S,
        immutable_file_test=lambda path, url: True,
        add_headers_function=nosniff,
    )


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
        max_age = ASSETS_MAX_AGE_S if path.startswith("assets/") else 0
        response = send_from_directory(DIST, path, max_age=max_age)
    else:
        response = send_from_directory(DIST, "index.html", max_age=0)
    return response
