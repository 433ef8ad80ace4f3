"""JSON Schemas that sampling can enforce: checked before anything is queued, so that a schema
the grammar cannot express is refused by name (400) instead of being half-enforced.

The grammar is llama.cpp's JSON-schema converter (llama_cpp.llama_grammar, run by the worker);
this module admits exactly the keywords it turns into grammar rules, in the combinations where
it keeps them all, and nothing else. Annotations (title, description, ...) are allowed and
dropped before conversion. Outputs are validated afterwards with ``jsonschema``.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from app.errors import InvalidInput, UnsupportedParameter

MAX_SCHEMA_CHARS = 64_000
MAX_SCHEMA_DEPTH = 24
MAX_REPEAT = 256  # minItems/maxItems/minLength/maxLength: each count unrolls into grammar rules
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
    }  # fmt: skip
)
TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
STRING_FORMATS = frozenset({"date", "time", "date-time", "uuid"})
FORMAT_NAMES = sorted(STRING_FORMATS)
KEYWORDS_BY_TYPE = {
    "object": frozenset({"type", "properties", "required", "additionalProperties"}),
    "array": frozenset({"type", "items", "prefixItems", "minItems", "maxItems"}),
    "string": frozenset({"type", "minLength", "maxLength", "format"}),
}
REF_PREFIXES = ("#/$defs/", "#/definitions/")
DEFS = ("$defs", "definitions")


def check_schema(schema: Any, where: str) -> None:
    """A valid JSON Schema (2020-12) made only of what the grammar enforces; else 422 / 400
    naming the part (``where`` is the parameter's path, e.g. response_format.json_schema.schema).
    """
    if not isinstance(schema, dict):
        raise InvalidInput(f"{where} must be a JSON Schema object")
    if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
        raise InvalidInput(f"{where} is longer than {MAX_SCHEMA_CHARS} characters")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        part = ".".join([where, *(str(p) for p in exc.path)])
        raise InvalidInput(f"{part} is not a valid JSON Schema: {exc.message}") from exc
    _Walker(schema).visit(schema, where, depth=0, root=True)


def grammar_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without annotations, as the grammar converter takes it (a checked schema)."""
    stripped: dict[str, Any] = _strip(schema)
    return stripped


def validation_errors(schema: dict[str, Any], value: Any) -> str | None:
    """The first way ``value`` breaks ``schema``, or None when it validates."""
    error = next(iter(Draft202012Validator(schema).iter_errors(value)), None)
    if error is None:
        return None
    place = "/".join(str(p) for p in error.absolute_path)
    return f"{error.message} (at /{place})" if place else error.message


def _strip(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ANNOTATIONS or key == "$schema":
            continue
        if key in ("properties", *DEFS):
            out[key] = {name: _strip(sub) for name, sub in value.items()}
        elif key in ("anyOf", "prefixItems"):
            out[key] = [_strip(sub) for sub in value]
        elif key in ("items", "additionalProperties"):
            out[key] = _strip(value)
        else:
            out[key] = value
    return out


def _unsupported(part: str, why: str) -> UnsupportedParameter:
    return UnsupportedParameter(f"{part}: {why}")


class _Walker:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def visit(self, schema: Any, where: str, *, depth: int, root: bool = False) -> None:
        if depth > MAX_SCHEMA_DEPTH:
            raise _unsupported(where, f"the schema is nested deeper than {MAX_SCHEMA_DEPTH}")
        if not isinstance(schema, dict):
            raise _unsupported(where, "a boolean schema cannot be enforced by the grammar")
        keys = {k for k in schema if k not in ANNOTATIONS and not (root and k == "$schema")}
        if root:
            for container in DEFS:
                for name, sub in (schema.get(container) or {}).items():
                    self.visit(sub, f"{where}.{container}.{name}", depth=depth + 1)
            keys -= set(DEFS)
        for container in DEFS:
            if container in keys:
                raise _unsupported(f"{where}.{container}", "definitions only at the schema's root")
        if "$ref" in keys:
            self._ref(schema["$ref"], where)
            self._alone(keys, "$ref", where)
        elif "anyOf" in keys:
            self._alone(keys, "anyOf", where)
            for i, sub in enumerate(schema["anyOf"]):
                self.visit(sub, f"{where}.anyOf[{i}]", depth=depth + 1)
        elif "enum" in keys or "const" in keys:
            self._values(schema, keys, where)
        else:
            self._typed(schema, keys, where, depth)

    def _alone(self, keys: set[str], keyword: str, where: str) -> None:
        others = sorted(keys - {keyword})
        if others:
            raise _unsupported(
                f"{where}.{others[0]}", f"cannot be enforced next to {keyword!r} by the grammar"
            )

    def _ref(self, ref: Any, where: str) -> None:
        if not isinstance(ref, str) or not ref.startswith(REF_PREFIXES) or ref.count("/") != 2:
            raise _unsupported(f"{where}.$ref", "only '#/$defs/<name>' references are supported")
        container, name = ref[2:].split("/")
        if name not in (self.root.get(container) or {}):
            raise InvalidInput(f"{where}.$ref: {ref!r} names no definition")

    def _values(self, schema: dict[str, Any], keys: set[str], where: str) -> None:
        keyword = "enum" if "enum" in keys else "const"
        extra = sorted(keys - {keyword, "type"})
        if extra:
            raise _unsupported(
                f"{where}.{extra[0]}", f"cannot be enforced next to {keyword!r} by the grammar"
            )
        if "type" in keys:  # the grammar writes the listed values: each must have the type
            values = schema["enum"] if keyword == "enum" else [schema["const"]]
            for value in values:
                if validation_errors({"type": schema["type"]}, value) is not None:
                    raise InvalidInput(f"{where}.{keyword}: {value!r} is not of the schema's type")

    def _typed(self, schema: dict[str, Any], keys: set[str], where: str, depth: int) -> None:
        kind = schema.get("type")
        if kind is None:
            kind = self._implied_type(keys, where)
        if isinstance(kind, list):
            self._alone(keys, "type", where)
            return
        allowed = KEYWORDS_BY_TYPE.get(kind, frozenset({"type"}))
        extra = sorted(keys - allowed)
        if extra:
            raise _unsupported(
                f"{where}.{extra[0]}", f"the grammar cannot enforce {extra[0]!r} on a {kind}"
            )
        if kind == "object":
            self._object(schema, where, depth)
        elif kind == "array":
            self._array(schema, where, depth)
        elif kind == "string":
            self._string(schema, where)

    def _implied_type(self, keys: set[str], where: str) -> str:
        if not keys:
            return "object"  # {}: the converter writes an object (one kind of JSON value)
        first = sorted(keys)[0]
        raise _unsupported(f"{where}.{first}", "give this schema a 'type' the grammar can enforce")

    def _object(self, schema: dict[str, Any], where: str, depth: int) -> None:
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            self.visit(sub, f"{where}.properties.{name}", depth=depth + 1)
        for name in schema.get("required", []):
            if name not in properties:
                raise _unsupported(
                    f"{where}.required",
                    f"{name!r} is required but not in 'properties', so the grammar cannot write it",
                )
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            self.visit(extra, f"{where}.additionalProperties", depth=depth + 1)

    def _array(self, schema: dict[str, Any], where: str, depth: int) -> None:
        if "prefixItems" in schema:
            if {"items", "minItems", "maxItems"} & schema.keys():
                raise _unsupported(
                    f"{where}.prefixItems", "cannot be combined with items, minItems or maxItems"
                )
            for i, sub in enumerate(schema["prefixItems"]):
                self.visit(sub, f"{where}.prefixItems[{i}]", depth=depth + 1)
            return
        if "items" not in schema and {"minItems", "maxItems"} & schema.keys():
            raise _unsupported(f"{where}.minItems", "minItems/maxItems need 'items'")
        if "items" in schema:
            self.visit(schema["items"], f"{where}.items", depth=depth + 1)
        self._counts(schema, ("minItems", "maxItems"), where)

    def _string(self, schema: dict[str, Any], where: str) -> None:
        fmt = schema.get("format")
        if fmt is not None:
            if fmt not in STRING_FORMATS:
                raise _unsupported(
                    f"{where}.format",
                    f"{fmt!r} is not a format the grammar enforces ({', '.join(FORMAT_NAMES)})",
                )
            if {"minLength", "maxLength"} & schema.keys():
                raise _unsupported(f"{where}.format", "cannot be combined with minLength/maxLength")
        self._counts(schema, ("minLength", "maxLength"), where)

    def _counts(self, schema: dict[str, Any], names: tuple[str, str], where: str) -> None:
        for name in names:
            if schema.get(name, 0) > MAX_REPEAT:
                raise _unsupported(f"{where}.{name}", f"at most {MAX_REPEAT} in a grammar")
        low, high = schema.get(names[0], 0), schema.get(names[1])
        if high is not None and high < low:
            raise InvalidInput(f"{where}.{names[1]} is below {names[0]}")
