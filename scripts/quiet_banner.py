"""Filters the bundled Chroma server's output (stdin to stdout): its start-up banner (ASCII art,
getting-started and cloud links) is dropped up to its first log line, and colour codes are
taken out of what follows, so the run command's log holds log lines only."""

from __future__ import annotations

import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOG_LINE = re.compile(r"^\s*\d{4}-\d\d-\d\dT\d\d:\d\d")  # the server's own lines start so


def main() -> None:
    in_banner = True
    for raw in sys.stdin:
        line = ANSI.sub("", raw).rstrip()
        if in_banner and not LOG_LINE.match(line):
            continue
        in_banner = False
        if line.strip():
            sys.stdout.write(line.strip() + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
