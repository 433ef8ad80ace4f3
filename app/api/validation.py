"""Parses request bodies and query strings into pydantic models, and serializes responses."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel, ValidationError

from app.errors import ApiError, InvalidInput, validation_details
from app.extensions import services

M = TypeVar("M", bound=BaseModel)


class MalformedJson(ApiError):
    status = 400
    code = "malformed_json"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


def parse_body(model: type[M]) -> M:
    if not request.is_json:
        raise UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
    try:
        data: Any = json.loads(request.get_data(cache=True) or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson("the request body is not valid JSON") from exc
    try:
        return model.model_validate(data, context={"settings": services().settings})
    except ValidationError as exc:
        raise InvalidInput("the request body is invalid", details=validation_details(exc)) from exc


def parse_query(model: type[M]) -> M:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise InvalidInput("the query string is invalid", details=validation_details(exc)) from exc


def respond(body: BaseModel, status: int = 200) -> tuple[Response, int]:
    return jsonify(body.model_dump(mode="json")), status
