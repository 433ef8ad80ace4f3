"""The fault rows' stack: its own Redis server (restarted by a test), PostgreSQL database, web
process and inference worker, so killing them touches no other test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.faultstack import FaultStack, fault_stack


@pytest.fixture(scope="package")
def faults(
    database_url: str, model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    """Once per suite run (in its PostgreSQL pass): the stack has a database of its own."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the fault rows run once, in the PostgreSQL pass, on a stack of their own")
    with fault_stack(tmp_path_factory.mktemp("faults"), model_path) as stack:
        yield stack
