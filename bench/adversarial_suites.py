"""The adversarial table's other rows: bad input, access, and load.

Bad input and access are the suite's own tests (tests/adversarial/ and the defects' tests), run
here in a pytest of their own on both databases against the real app, Redis and workers they
start; a row counts its test cases and names each one that failed. Load runs bench/priority.py
(1,000 queued batch items while chats arrive) and reads its chat TTFT p95 ratio.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from testkit.faults import Row, Run

ROOT = Path(__file__).resolve().parent.parent
BAD_INPUT = (
    "tests/adversarial/test_schema_fuzz.py",  # schemathesis: 0 5xx, 0 schema violations
    "tests/adversarial/test_bad_uploads.py",  # malformed multipart, wrong magic bytes
    "tests/adversarial/test_ws_limits.py",  # socket frames and commands past their limits
    "tests/workers/test_prompt_tokens.py",  # defect 3: special tokens in text stay text
    "tests/rag/test_ingest_bombs.py",  # defect 4: ingest bombs
    "tests/api/test_bad_input.py",  # defect 9: 5xx and protocol errors a client could cause
    "tests/api/test_consistency.py",  # defect 10: smaller leaks and inconsistencies
)
ACCESS = (
    "tests/adversarial/test_access.py",  # the matrix derived from the URL map
    "tests/adversarial/test_ws_accounts.py",  # the same over the WebSocket
)
SUITES = {
    "bad-input": ("bad input: schemathesis, malformed multipart, wrong magic bytes, defects "
                  "3, 4, 9, 10 (test cases, both databases)", BAD_INPUT),
    "access": ("access: every route and socket command as anonymous, user, another user, "
               "admin (test cases, both databases)", ACCESS),
}  # fmt: skip
LOAD = "load: 1,000 queued batch items while chats arrive (chat TTFT p95 busy/idle, <= 1.3x)"
FIGURES = re.compile(r"^((?:schemathesis|access matrix): .*)$", re.MULTILINE)
RATIO = re.compile(r"p95 ratio busy/idle: ([0-9.]+)x")


def suite_row(name: str, paths: tuple[str, ...]) -> Row:
    """One run per test case the pytest run reported; its figures lines become notes."""
    row = Row(name)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.xml"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
             f"--junitxml={report}", *paths],
            cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(), check=False,
        )  # fmt: skip
        figures = FIGURES.findall(done.stdout)
        if not report.exists():
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            row.runs.append(Run("not run", None, [f"pytest exited {done.returncode}: {tail}"]))
            return row
        for case in ElementTree.parse(report).iter("testcase"):
            test = f"{case.get('classname')}::{case.get('name')}"
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped") is not None
            outcome = "failed" if failed else "skipped" if skipped else "passed"
            row.runs.append(Run(outcome, None, [f"{test} failed"] if failed else []))
    if row.runs and figures:
        row.runs[0].notes.extend(figures)
    return row


def load_row(requests: int) -> Row:
    """bench/priority.py's run; the row's one run is its ratio."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.priority", "--requests", str(requests)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = RATIO.search(done.stdout)
    if found is None:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        failure = f"bench.priority exited {done.returncode}: {tail}"
        return Row(LOAD, [Run("not run", None, [failure])])
    ratio = float(found.group(1))
    problems = [f"p95 ratio {ratio:.2f}x over 1.3x"] if ratio > 1.3 else []
    lines = [line for line in done.stdout.splitlines() if line.startswith(("chat TTFT", "batch"))]
    return Row(LOAD, [Run(f"p95 ratio {ratio:.2f}x", None, problems, lines)])


def suite_rows(wanted: set[str], load_requests: int) -> list[Row]:
    rows = [suite_row(name, paths) for key, (name, paths) in SUITES.items() if key in wanted]
    if "load" in wanted:
        rows.append(load_row(load_requests))
    return rows
