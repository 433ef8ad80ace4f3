"""The committed frontend/openapi.json and the API types generated from it are current."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts.dump_openapi import (
    ENUMS_PATH,
    GENERATOR,
    SPEC_PATH,
    TYPES_PATH,
    generate,
    generate_enums,
    generate_types,
)

FIX = "run `.venv/bin/python scripts/dump_openapi.py` (it rewrites every generated file)"


def test_committed_spec_matches_the_app() -> None:
    assert SPEC_PATH.read_text() == generate(), f"frontend/openapi.json is stale: {FIX}"


def test_committed_types_match_the_spec(tmp_path: Path) -> None:
    if not GENERATOR.exists() or shutil.which("node") is None:
        pytest.skip("frontend/node_modules is not installed (scripts/install.sh installs it)")
    fresh = tmp_path / "schema.d.ts"
    generate_types(SPEC_PATH, fresh)
    assert TYPES_PATH.read_text() == fresh.read_text(), f"schema.d.ts is stale: {FIX}"


def test_committed_status_sets_match_the_enums() -> None:
    assert ENUMS_PATH.read_text() == generate_enums(), f"src/api/enums.ts is stale: {FIX}"
