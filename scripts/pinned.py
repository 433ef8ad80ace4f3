"""Prints the version pyproject.toml pins for a dependency (used by scripts/install.sh)."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def pinned(name: str) -> str:
    pyproject = Path(__file__).parent.parent / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    groups = [project["dependencies"], *project.get("optional-dependencies", {}).values()]
    for requirement in (r for group in groups for r in group):
        found = re.fullmatch(rf"{re.escape(name)}(\[[^\]]*\])?==([^\s;]+).*", requirement)
        if found:
            return found.group(2)
    raise SystemExit(f"{name} is not pinned in pyproject.toml")


if __name__ == "__main__":
    sys.stdout.write(pinned(sys.argv[1]) + "\n")
