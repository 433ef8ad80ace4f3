"""GBNF grammars for structured output and tool calls, from llama.cpp's JSON-schema converter.

The web process admitted only schemas the converter enforces whole (app/services/json_schemas);
here they become rules, and the engine's sampler picks only tokens the grammar allows, so a
reply that ends by itself is valid JSON that follows its schema.
"""

from __future__ import annotations

import json
from typing import Any

from llama_cpp import llama_grammar

from app.services.json_schemas import DEFS, REF_PREFIXES, grammar_schema
from app.services.tool_calls import call_prefix, tool_format

MAX_PARALLEL_CALLS = 8
# JSON strings may not hold raw control characters; llama-cpp-python's "char" rule lets them
# through (llama.cpp's own C++ converter keeps them out), so the rule is replaced
JSON_CHAR = r'[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})'
# content that is not a call: anything that does not start like one (nor with a space)
PROSE = r"[^{first} \t\r\n] [^\x00]*"


# llama-cpp-python's converter is untyped: it is handled as Any here
SchemaConverter = Any


def converter() -> SchemaConverter:
    make: Any = llama_grammar.SchemaConverter
    return make(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)


def literal(text: str) -> str:
    return json.dumps(text)  # a GBNF literal is a JSON string's spelling


def prefixed_defs(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The schema with its definitions (and references to them) renamed, so that several
    functions' definitions of one name become rules of their own."""
    text = json.dumps(schema)
    for container in DEFS:
        for name in schema.get(container) or {}:
            for ref_prefix in REF_PREFIXES:
                if ref_prefix == f"#/{container}/":
                    text = text.replace(
                        json.dumps(f"{ref_prefix}{name}"), json.dumps(f"{ref_prefix}{prefix}{name}")
                    )
    renamed: dict[str, Any] = json.loads(text)
    for container in DEFS:
        if container in renamed:
            renamed[container] = {f"{prefix}{k}": v for k, v in renamed[container].items()}
    return renamed


def add_schema(conv: SchemaConverter, schema: dict[str, Any], name: str) -> str:
    """Adds the schema's rules; the name of its top rule."""
    clean = conv.resolve_refs(grammar_schema(schema), name)
    rule: str = conv.visit(clean, name)
    return rule


def finish(conv: SchemaConverter, root: str) -> str:
    rules: dict[str, str] = conv._rules  # the converter keeps its rules by name
    if "char" in rules:
        rules["char"] = JSON_CHAR
    rules["root"] = root
    text: str = conv.format_grammar()
    return text


def schema_grammar(schema: dict[str, Any]) -> str:
    conv = converter()
    top = add_schema(conv, schema, "answer")
    return finish(conv, top)


def calls_grammar(request: dict[str, Any]) -> str:
    """Calls only (tool_choice required or named), or calls or content (auto): content is
    prose, or the response_format's JSON when the request has one."""
    conv = converter()
    tools = request["tools"]
    choice = request.get("tool_choice", "auto")
    fmt = tool_format(request)
    alternatives = []
    for i, tool in enumerate(tools):
        if isinstance(choice, dict) and tool["name"] != choice["name"]:
            continue
        parameters = prefixed_defs(tool["parameters"], f"t{i}-")
        arguments = add_schema(conv, parameters, f"tool{i}-arguments")
        opening, closing = literal(call_prefix(tool["name"], fmt)), literal(fmt.close)
        alternatives.append(conv._add_rule(f"call{i}", f"{opening} {arguments} {closing}"))
    call = conv._add_rule("call", " | ".join(alternatives))
    parallel = request.get("parallel_tool_calls", True) and not isinstance(choice, dict)
    calls = f'{call} ("\\n" {call}){{0,{MAX_PARALLEL_CALLS - 1}}}' if parallel else call
    if choice != "auto":
        return finish(conv, calls)
    response_format = request.get("response_format")
    if response_format is not None:
        schema = response_format.get("schema", {"type": "object"})
        content = add_schema(conv, schema, "answer")
    else:
        content = conv._add_rule("prose", PROSE.replace("{first}", fmt.open[0]))
    return finish(conv, f"({calls}) | {content}")


def request_grammar(request: dict[str, Any]) -> str | None:
    """The grammar a stored request is sampled under, if any."""
    if request.get("tools"):
        return calls_grammar(request)
    response_format = request.get("response_format")
    if response_format is None:
        return None
    return schema_grammar(response_format.get("schema", {"type": "object"}))
