from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient


def upload(client: FlaskClient, headers: dict[str, str], *files: tuple[str, bytes]) -> Any:
    import io

    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(
        "/api/documents", data=data, headers=headers, content_type="multipart/form-data"
    )


def wait_for_status(
    client: FlaskClient,
    headers: dict[str, str],
    document_id: int,
    statuses: set[str],
    timeout: float = 120,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/documents/{document_id}", headers=headers).json
        if body["status"] in statuses:
            return body
        time.sleep(0.2)
    raise AssertionError(f"document {document_id} never reached {statuses}: {body}")
