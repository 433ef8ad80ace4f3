"""Submit a JSONL batch and wait for it with a progress bar; the results land in a JSONL file.

python -m app.cli.batch submit requests.jsonl --url http://127.0.0.1:8000 --api-key qc-...
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

FINAL_BATCH_STATUSES = {"done", "cancelled"}


class BatchClient:
    def __init__(self, url: str, credential: str, timeout_s: float = 60) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {credential}"}
        self.timeout_s = timeout_s

    def call(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> bytes:
        headers = dict(self.headers)
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"{method} {path}: HTTP {exc.code}: {describe(exc.read())}") from exc
        except urllib.error.URLError as exc:
            raise SystemExit(f"cannot reach {self.url}: {exc.reason}") from exc

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.call(method, path, **kwargs))
        return found

    def submit(self, path: Path, name: str | None) -> dict[str, Any]:
        query = f"?{urllib.parse.urlencode({'name': name or path.name})}"
        return self.json(
            "POST", f"/api/batches{query}", body=path.read_bytes(), content_type="application/jsonl"
        )

    def status(self, batch_id: int) -> dict[str, Any]:
        return self.json("GET", f"/api/batches/{batch_id}")

    def results(self, batch_id: int) -> bytes:
        return self.call("GET", f"/api/batches/{batch_id}/results")


def describe(body: bytes) -> str:
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")[:500]
    details = error.get("details")
    lines = [error.get("message", "")]
    if isinstance(details, list):
        lines += [f"  line {d.get('line', '?')}: {d.get('message')}" for d in details[:20]]
    return "\n".join(lines)


def wait_with_progress(
    client: BatchClient, batch: dict[str, Any], poll_s: float, console: Console
) -> dict[str, Any]:
    columns = (
        TextColumn("[bold]batch {task.fields[batch_id]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("batch", total=batch["total"], batch_id=batch["id"], counts="")
        while True:
            counts = batch["counts"]
            finished = counts["done"] + counts["failed"] + counts["cancelled"]
            summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
            progress.update(task, completed=finished, counts=summary)
            if batch["status"] in FINAL_BATCH_STATUSES and counts["running"] == 0:
                return batch
            time.sleep(poll_s)
            batch = client.status(batch["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.cli.batch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="submit a JSONL file and wait for the results")
    submit.add_argument("file", type=Path)
    submit.add_argument("--url", default="http://127.0.0.1:8000")
    credential = submit.add_mutually_exclusive_group(required=True)
    credential.add_argument("--api-key", help="an API key (qc-...) from /api/keys")
    credential.add_argument("--token", help="an access token from /api/auth/login")
    submit.add_argument("--name", help="the batch's name (default: the file name)")
    submit.add_argument("--output", type=Path, help="results file (default: FILE.results.jsonl)")
    submit.add_argument("--poll", type=float, default=1.0, help="seconds between status checks")
    args = parser.parse_args(argv)

    console = Console(stderr=True)
    if not args.file.is_file():
        raise SystemExit(f"no such file: {args.file}")
    client = BatchClient(args.url, args.api_key or args.token)
    batch = client.submit(args.file, args.name)
    console.print(f"submitted batch {batch['id']} ({batch['total']} requests)")
    try:
        batch = wait_with_progress(client, batch, args.poll, console)
    except KeyboardInterrupt:
        console.print(f"stopped waiting; batch {batch['id']} keeps running on the server")
        return 130
    output = args.output or args.file.with_name(args.file.stem + ".results.jsonl")
    output.write_bytes(client.results(batch["id"]))
    counts = batch["counts"]
    console.print(
        f"batch {batch['id']} {batch['status']}: {counts['done']} done, {counts['failed']} "
        f"failed, {counts['cancelled']} cancelled; results in {output}"
    )
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
