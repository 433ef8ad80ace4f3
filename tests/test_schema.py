"""Migrations match the models, on both databases; the OpenAPI spec covers the API."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask.testing import FlaskClient

from app.db import Base, described_by_models, make_engine


def test_migrations_match_models(database_url: str, settings: object) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"include_name": described_by_models}),
            Base.metadata,
        )
    engine.dispose()
    assert diff == []


def test_openapi_spec_lists_routes_with_schemas(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/api/sessions/{session_id}/messages"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MessageCreate"
    }
    assert "202" in post["responses"]
    assert set(spec["components"]["schemas"]["MessageCreate"]["properties"]) >= {
        "content",
        "temperature",
        "top_p",
        "max_tokens",
    }
    for path in (
        "/api/auth/login",
        "/api/auth/logout",
        "/api/sessions",
        "/api/messages/{message_id}/cancel",
    ):
        assert path in spec["paths"]
    refs = {v for op in spec["paths"].values() for m in op.values() for v in _refs(m)}
    assert refs <= {f"#/components/schemas/{name}" for name in spec["components"]["schemas"]}


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []
