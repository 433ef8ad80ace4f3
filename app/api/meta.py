"""Service endpoints: the OpenAPI spec and liveness."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from app.api.openapi import build_spec

bp = Blueprint("meta", __name__)


@bp.get("/api/openapi.json")
def openapi() -> dict[str, Any]:
    return build_spec(current_app)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
