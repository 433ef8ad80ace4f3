"""A real OpenID Connect provider for tests: oidc-provider-mock in a process of its own on a
free port, with PKCE enforced in front of it (the mock's last release for Python 3.11 ignores
code_challenge)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from werkzeug.serving import make_server

from testkit.processes import free_port, wait_until

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass
class PkceCheck:
    """RFC 7636 at the provider: an authorization request must carry an S256 code_challenge,
    and the token request for its code the code_verifier that hashes to it, else the token
    endpoint answers invalid_grant."""

    app: Wsgi
    challenges: dict[str, str] = field(default_factory=dict)  # code -> challenge
    verified: list[str] = field(default_factory=list)  # codes whose verifier matched

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if query.get("code_challenge_method") != ["S256"] or not query.get("code_challenge"):
                return _refuse(start_response, "invalid_request", "PKCE (S256) is required")
            challenge = query["code_challenge"][0]

            def remember(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
                location = dict(headers).get("Location", "")
                for code in parse_qs(urlsplit(location).query).get("code", []):
                    self.challenges[code] = challenge
                return start_response(status, headers, *rest)

            return self.app(environ, remember)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            form = parse_qs(body.decode())
            if form.get("grant_type") == ["authorization_code"]:
                code = form.get("code", [""])[0]
                verifier = form.get("code_verifier", [""])[0]
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if not verifier or self.challenges.get(code) != expected:
                    return _refuse(start_response, "invalid_grant", "PKCE verification failed")
                self.verified.append(code)
        return self.app(environ, start_response)


def _refuse(start_response: StartResponse, error: str, description: str) -> list[bytes]:
    body = json.dumps({"error": error, "error_description": description}).encode()
    start_response("400 Bad Request", [("Content-Type", "application/json")])
    return [body]


@dataclass
class OidcProvider:
    url: str

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        """The claims the provider puts into this subject's ID token (beside iss, aud...)."""
        answer = httpx.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims)
        assert answer.status_code == 204, answer.text

    def authorize(self, authorization_url: str, sub: str) -> str:
        """Signs in as ``sub`` on the provider's form; the redirect back to the client."""
        answer = httpx.post(authorization_url, data={"sub": sub})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def pkce_verified(self) -> list[str]:
        """The authorization codes whose code_verifier matched their code_challenge."""
        return list(httpx.get(f"{self.url}{VERIFIED_PATH}").json())


VERIFIED_PATH = "/_test/pkce-verified"


def serve(port: int) -> None:
    """The provider with PKCE enforced, in this process (``python -m testkit.oidc PORT``)."""
    import oidc_provider_mock  # here only: it warns of deprecated Authlib APIs on import

    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain http on localhost
    app = oidc_provider_mock.app(require_nonce=True)
    pkce = PkceCheck(app.wsgi_app)
    app.wsgi_app = pkce  # type: ignore[method-assign]
    app.add_url_rule(VERIFIED_PATH, "pkce_verified", lambda: json.dumps(pkce.verified))
    make_server("localhost", port, app, threaded=True).serve_forever()


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/.well-known/openid-configuration", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def oidc_provider(log_dir: Path) -> Iterator[OidcProvider]:
    """A process of its own: the mock's use of deprecated Authlib APIs warns there, not in the
    test run (whose warnings are errors)."""
    port = free_port()
    with (log_dir / "oidc-provider.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "testkit.oidc", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://localhost:{port}"
    try:
        wait_until(lambda: answers(url), timeout=60, what="OpenID provider")
        yield OidcProvider(url)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
