"""The committed frontend/openapi.json (the frontend's API types come from it) is current."""

from __future__ import annotations

from scripts.dump_openapi import SPEC_PATH, generate


def test_committed_spec_matches_the_app() -> None:
    assert SPEC_PATH.read_text() == generate(), (
        "frontend/openapi.json is stale: run `.venv/bin/python scripts/dump_openapi.py` and "
        "`npm run gen:api` in frontend/"
    )
