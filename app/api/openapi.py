"""The OpenAPI 3.1 spec, generated from the pydantic models each route declares."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def documented(
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    auth: bool = True,
    files: str | None = None,
) -> Callable[[F], F]:
    """Attaches OpenAPI metadata to a view; it changes nothing about how the view runs.

    ``files`` names the multipart field of an upload (one or more files).
    """

    def attach(view: F) -> F:
        view.__openapi__ = {  # type: ignore[attr-defined]
            "summary": summary,
            "body": body,
            "query": query,
            "response": response,
            "status": status,
            "auth": auth,
            "files": files,
        }
        return view

    return attach


def build_spec(app: Flask) -> dict[str, Any]:
    operations: list[tuple[str, str, dict[str, Any]]] = []
    models: set[type[BaseModel]] = set()
    for rule in app.url_map.iter_rules():
        meta = getattr(app.view_functions.get(rule.endpoint), "__openapi__", None)
        if meta is None:
            continue
        models.update(m for m in (meta["body"], meta["query"], meta["response"]) if m)
        path = _PATH_PARAM.sub(r"{\2}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((path, method.lower(), _operation(rule.rule, meta)))
    ordered = sorted(models, key=lambda m: m.__name__)
    _, schemas = models_json_schema([(m, "validation") for m in ordered], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, operation in sorted(operations, key=lambda item: item[:2]):
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "QueueChat API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {**schemas.get("$defs", {}), "Error": _ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(rule: str, meta: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if converter == "int" else "string"},
        }
        for converter, name in _PATH_PARAM.findall(rule)
    ]
    if meta["query"]:
        for name, field in meta["query"].model_fields.items():
            parameters.append(
                {"name": name, "in": "query", "required": field.is_required(), "schema": {}}
            )
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    responses: dict[str, Any] = {"4XX": {"description": "error", **error}}
    ok: dict[str, Any] = {"description": "success"}
    if meta["response"]:
        ok["content"] = {"application/json": {"schema": _ref(meta["response"].__name__)}}
    responses[str(meta["status"])] = ok
    operation: dict[str, Any] = {"summary": meta["summary"], "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    if meta["body"]:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(meta["body"].__name__)}},
        }
    if meta["files"]:
        field = {"type": "array", "items": {"type": "string", "format": "binary"}}
        form = {"type": "object", "required": [meta["files"]], "properties": {meta["files"]: field}}
        operation["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": form}},
        }
    if meta["auth"]:
        operation["security"] = [{"bearer": []}]
    return operation


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}
