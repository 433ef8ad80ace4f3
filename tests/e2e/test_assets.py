"""The UI's files as the run command's server sends them (rough edge 10 of issue 17): hashed
assets precompressed (brotli or gzip, as the client accepts) and cached for good, the admin
screens and highlight.js in chunks of their own, index.html never cached."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from app.config import Settings


def fetched(client: FlaskClient, path: str, **headers: str) -> TestResponse:
    """The whole response, its file closed (WhiteNoise answers with an open file)."""
    response = client.get(path, headers=headers)
    response.get_data()
    response.close()
    return response


def test_assets_are_precompressed_immutable_and_split(
    frontend_dist: Path, settings: Settings
) -> None:
    client = create_app(settings).test_client()
    index = fetched(client, "/")
    assert index.status_code == 200
    assert "no-cache" in index.headers["Cache-Control"] or "max-age=0" in index.headers[
        "Cache-Control"
    ]
    assert "Content-Security-Policy" in index.headers
    entry = re.search(r'src="/?(assets/[^"]+\.js)"', index.get_data(as_text=True))
    assert entry is not None
    raw = (frontend_dist / entry.group(1)).read_bytes()

    zipped = fetched(client, f"/{entry.group(1)}", **{"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == raw
    assert len(zipped.data) < len(raw) / 2
    cache = zipped.headers["Cache-Control"]
    assert "immutable" in cache and "max-age=31536000" in cache, cache
    assert zipped.headers["X-Content-Type-Options"] == "nosniff"
    assert "Accept-Encoding" in zipped.headers["Vary"]

    brotli = fetched(client, f"/{entry.group(1)}", **{"Accept-Encoding": "br, gzip"})
    assert brotli.headers["Content-Encoding"] == "br"
    assert len(brotli.data) <= len(zipped.data)

    plain = fetched(client, f"/{entry.group(1)}")
    assert "Content-Encoding" not in plain.headers and plain.data == raw

    names = [path.name for path in (frontend_dist / "assets").iterdir()]
    for chunk in ("AdminPage-", "WorkspacePage-", "UsagePage-", "rehype-highlight-"):
        assert any(n.startswith(chunk) and n.endswith(".js") for n in names), chunk
