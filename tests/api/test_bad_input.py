"""Input a client can send that used to end in a 500: ids past 2^63, JSON nested too deep, a
NUL byte in a file name. Each now gets a clear 4xx in the JSON envelope."""

from __future__ import annotations

import socket

from flask.testing import FlaskClient

from testkit.processes import LiveServer
from tests.rag.helpers import upload

HUGE = 2**63  # one past the largest BIGINT


def assert_error(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.data  # type: ignore[attr-defined]
    assert response.json["error"]["code"] == code  # type: ignore[attr-defined]


def test_an_id_past_the_largest_row_id_is_not_found(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    for path in (f"/api/sessions/{HUGE}", f"/api/messages/{HUGE}", f"/api/batches/{HUGE}"):
        assert_error(client.get(path, headers=auth_headers), 404, "not_found")
    assert_error(
        client.post(f"/api/messages/{HUGE}/cancel", headers=auth_headers), 404, "not_found"
    )
    largest = 2**63 - 1  # still a valid id: simply no such row
    assert_error(client.get(f"/api/sessions/{largest}", headers=auth_headers), 404, "not_found")


def test_ids_and_offsets_in_bodies_and_queries_are_bounded(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    response = client.post("/api/sessions", json={"template_id": HUGE}, headers=auth_headers)
    assert_error(response, 422, "invalid_input")
    assert response.json["error"]["details"][0]["field"] == "template_id"
    response = client.get(f"/api/sessions?offset={HUGE}", headers=auth_headers)
    assert_error(response, 422, "invalid_input")


def test_json_nested_deeper_than_the_parser_goes_is_malformed(
    client: FlaskClient, auth_headers: dict[str, str]
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    headers = {**auth_headers, "Content-Type": "application/json"}
    response = client.post("/api/sessions", data=deep, headers=headers)
    assert_error(response, 400, "malformed_json")
    response = client.post("/v1/chat/completions", data=deep, headers=headers)
    assert_error(response, 400, "malformed_json")
    assert client.get("/api/sessions", headers=auth_headers).status_code == 200


def test_a_nul_byte_in_a_file_name_is_dropped_and_the_download_works(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    response = upload(client, admin_headers, ("bad\x00name.txt", b"nul in the file name"))
    assert response.status_code == 202, response.json
    document = response.json["items"][0]
    assert document["original_name"] == "badname.txt"
    download = client.get(f"/api/documents/{document['id']}/file", headers=admin_headers)
    try:
        assert download.status_code == 200
        assert download.data == b"nul in the file name"
        assert "badname.txt" in download.headers["Content-Disposition"]
    finally:
        download.close()
        # the knowledge base is shared with the other tests (the e2e ones start from none)
        client.delete(f"/api/documents/{document['id']}", headers=admin_headers)


def test_a_chunked_body_over_the_limit_is_413(live_server: LiveServer) -> None:
    """No Content-Length (Transfer-Encoding: chunked): the limit still answers 413, not 400."""
    body = b'{"username": "' + b"a" * 2_000_000 + b'", "password": "long enough"}'
    head = (
        b"POST /api/auth/register HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for start in range(0, len(body), 65536):
                part = body[start : start + 65536]
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before it read everything
        answer = b""
        while b"}" not in answer.partition(b"\r\n\r\n")[2]:  # the JSON envelope, whole
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413", answer[:300]
    assert b'"code":"request_entity_too_large"' in rest
