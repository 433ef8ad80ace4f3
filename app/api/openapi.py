"""The OpenAPI 3.1 spec, generated from the pydantic models each route declares."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema
from werkzeug.routing import Rule

from app.config import Settings
from app.extensions import EXTENSION_KEY
from app.schemas.common import MAX_ROW_ID, NO_NUL, SETTING_BOUND

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
# every <int:...> in a route is a row id (RowIdConverter): 1 .. 2^63 - 1
_ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}


def documented(
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    auth: bool = True,
    files: str | None = None,
    file: str | None = None,
    raw_body: str | None = None,
    form: dict[str, dict[str, Any]] | None = None,
    text_response: str | None = None,
) -> Callable[[F], F]:
    """Attaches OpenAPI metadata to a view; it changes nothing about how the view runs.

    ``files`` names the multipart field of an upload of one or more files, ``file`` that of
    one file; ``raw_body`` is a media type the same content may come in as the whole body;
    ``form``: the upload's other (required) fields, by name, with their JSON schemas;
    ``text_response``: a text media type the response may come in instead of JSON.
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
            "file": file,
            "raw_body": raw_body,
            "form": form or {},
            "text_response": text_response,
        }
        return view

    return attach


class SpecSchema(GenerateJsonSchema):
    """Request strings carry no NUL (``Input`` refuses it); a field's own pattern says more."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        if self.mode == "validation":
            json_schema.setdefault("pattern", NO_NUL)
        return json_schema


def build_spec(app: Flask) -> dict[str, Any]:
    routes: list[tuple[Rule, dict[str, Any]]] = []
    inputs: set[type[BaseModel]] = set()
    outputs: set[type[BaseModel]] = set()
    for rule in app.url_map.iter_rules():
        meta = getattr(app.view_functions.get(rule.endpoint), "__openapi__", None)
        if meta is not None:
            routes.append((rule, meta))
            inputs.update(m for m in (meta["body"], meta["query"]) if m)
            outputs.update(m for m in (meta["response"],) if m)
    # bodies as the server reads them, responses as it writes them (aliases, computed fields)
    refs, schemas = models_json_schema(
        [(m, "validation") for m in sorted(inputs, key=_name)]
        + [(m, "serialization") for m in sorted(outputs, key=_name)],
        ref_template=REF,
        schema_generator=SpecSchema,
    )
    operations: list[tuple[str, str, dict[str, Any]]] = []
    for rule, meta in routes:
        path = _PATH_PARAM.sub(r"{\2}", rule.rule)
        operation = _operation(rule.rule, meta, refs)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((path, method.lower(), operation))
    _state_settings(schemas, app.extensions[EXTENSION_KEY].settings)
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


def _operation(rule: str, meta: dict[str, Any], refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _ROW_ID if converter == "int" else {"type": "string"},
        }
        for converter, name in _PATH_PARAM.findall(rule)
    ]
    if meta["query"]:
        fields = meta["query"].model_json_schema(schema_generator=SpecSchema)["properties"]
        for name, field in meta["query"].model_fields.items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": field.is_required(),
                    "schema": _query_schema(fields[name]),
                }
            )
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    responses: dict[str, Any] = {"4XX": {"description": "error", **error}}
    ok: dict[str, Any] = {"description": "success"}
    if meta["response"]:
        ok["content"] = {"application/json": {"schema": refs[(meta["response"], "serialization")]}}
    if meta["text_response"]:
        ok.setdefault("content", {})[meta["text_response"]] = {"schema": {"type": "string"}}
    responses[str(meta["status"])] = ok
    operation: dict[str, Any] = {"summary": meta["summary"], "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    if meta["body"]:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(meta["body"], "validation")]}},
        }
    if meta["files"] or meta["file"]:
        binary = {"type": "string", "format": "binary"}
        name = meta["files"] or meta["file"]
        field = {"type": "array", "items": binary} if meta["files"] else binary
        form: dict[str, Any] = {
            "type": "object",
            "required": [name, *meta["form"]],
            "properties": {name: field, **meta["form"]},
        }
        if meta["form"]:  # an upload whose fields are all listed refuses any other
            form["additionalProperties"] = False
        content: dict[str, Any] = {"multipart/form-data": {"schema": form}}
        if meta["raw_body"]:
            content[meta["raw_body"]] = {"schema": binary}
        operation["requestBody"] = {"required": True, "content": content}
    if meta["auth"]:
        operation["security"] = [{"bearer": []}]
    return operation


def _name(model: type[BaseModel]) -> str:
    return model.__name__


def _state_settings(node: Any, settings: Settings) -> None:
    """Fills in the bounds that come from settings (``bounded_by``): the spec states the limits
    of the server that serves it."""
    if isinstance(node, dict):
        keyword, setting = node.pop(SETTING_BOUND, (None, None))
        if keyword is not None:
            node[keyword] = getattr(settings, setting)
        for value in node.values():
            _state_settings(value, settings)
    elif isinstance(node, list):
        for value in node:
            _state_settings(value, settings)


def _query_schema(field: dict[str, Any]) -> dict[str, Any]:
    """A query field's schema as a query string can carry it: no title, never null."""
    schema = {key: value for key, value in field.items() if key not in ("title", "anyOf")}
    choices = [c for c in field.get("anyOf", []) if c.get("type") != "null"]
    if len(choices) == 1:
        schema.update(choices[0])
    elif choices:
        schema["anyOf"] = choices
    if schema.get("default", 0) is None:
        del schema["default"]
    return schema


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
                "param": {"type": "string"},
            },
        }
    },
}
