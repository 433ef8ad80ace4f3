"""What every view needs from the request: the caller, admin checks, parsed bodies and queries.

Views parse with these, call a service with explicit arguments, and respond.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Response, g, jsonify, request
from flask_jwt_extended import current_user, verify_jwt_in_request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from app.enums import Role
from app.errors import (
    Forbidden,
    InvalidInput,
    MalformedJson,
    Unauthorized,
    UnsupportedMediaType,
    validation_details,
)
from app.extensions import get_db, resources
from app.logs import bind
from app.models import User
from app.schemas.common import MAX_ROW_ID
from app.schemas.openai_params import refuse_unsupported
from app.services.accounts import API_KEY_PREFIX, api_key_user

M = TypeVar("M", bound=BaseModel)


def signed_in_user() -> User:
    """The user of the request's access token (the view is ``@jwt_required()``)."""
    user: User = current_user
    return user


def is_admin() -> bool:
    return signed_in_user().role == Role.ADMIN


def require_admin() -> User:
    user = signed_in_user()
    if user.role != Role.ADMIN:
        raise Forbidden("administrators only")
    return user


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def key_or_jwt_user() -> User:
    """The caller by API key (``Bearer qc-...``) or, failing that, by access token."""
    if "api_user" in g:
        found: User = g.api_user
        return found
    token = bearer_token()
    if token.startswith(API_KEY_PREFIX):
        keyed = api_key_user(get_db(), token)
        if keyed is None:
            raise Unauthorized("invalid or revoked API key")
        g.api_key_id, user = keyed[0].id, keyed[1]
        bind(user_id=user.id)
    else:
        verify_jwt_in_request()
        user = signed_in_user()
    g.api_user = user
    return user


def caller_api_key_id() -> int | None:
    """The API key the caller used (``key_or_jwt_user`` ran first); None for an access token."""
    key_id: int | None = g.get("api_key_id")
    return key_id


def request_bytes() -> bytes:
    """The body; one sent in chunks (no Content-Length) past the limit is 413 like any other,
    not a cut-off body that then fails to parse."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise RequestEntityTooLarge()
    return data


def json_number(text: str) -> float | int:
    """JSON has one number type: 2.0 is the integer 2 (so JSON Schema counts it), 2.5 a float."""
    value = float(text)
    return int(value) if value.is_integer() else value


def json_body() -> Any:
    try:
        return json.loads(request_bytes() or b"", parse_float=json_number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson("the request body is not valid JSON") from exc
    except RecursionError as exc:
        raise MalformedJson("the request body is nested too deep") from exc


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route: an id no row can have (over 2^63 - 1) is 404, not 500.

    Such an id becomes 0, which no row has, rather than failing the match: a converter that
    refuses a value makes werkzeug answer 405 for every other method of the same path.
    """

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ROW_ID else 0


def parse_body(model: type[M]) -> M:
    if not request.is_json:
        raise UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
    data = json_body()
    try:
        return model.model_validate(data, context={"settings": resources().settings})
    except ValidationError as exc:
        raise InvalidInput("the request body is invalid", details=validation_details(exc)) from exc


def parse_lenient_body(model: type[M]) -> M:
    """OpenAI-style bodies: any content type, the first problem named in the message."""
    return validate_lenient(model, json_body())


def validate_lenient(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc)
        first = f"{details[0]['field']}: {details[0]['message']}" if details else ""
        raise InvalidInput(f"the request body is invalid ({first})", details=details) from exc


def parse_openai_body(model: type[M]) -> M:
    """An OpenAI-style body whose parameters this server implements, all of them: any other is
    a 400 naming it (app/schemas/openai_params.py), then as ``parse_lenient_body``."""
    data = json_body()
    refuse_unsupported(data, model)
    return validate_lenient(model, data)


def parse_query(model: type[M]) -> M:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise InvalidInput("the query string is invalid", details=validation_details(exc)) from exc


def respond(body: BaseModel, status: int = 200) -> tuple[Response, int]:
    return jsonify(body.model_dump(mode="json")), status


def no_content() -> tuple[Response, int]:
    return Response(status=204), 204
