"""Service endpoints: the OpenAPI spec and liveness."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from app.api.openapi import build_spec

bp = Blueprint("meta", __name__)
SPEC_KEY = "queuechat.openapi"


@bp.get("/api/openapi.json")
def openapi() -> dict[str, Any]:
    """Built once per app: the routes do not change after start-up."""
    spec: dict[str, Any] | None = current_app.extensions.get(SPEC_KEY)
    if spec is None:
        spec = current_app.extensions[SPEC_KEY] = build_spec(current_app)
    return spec


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
