"""Input a client can send that used to end in a 500: ids past 2^63, JSON nested too deep, a
NUL byte in a file name. Each now gets a clear 4xx in the JSON envelope."""

from __future__ import annotations

from flask.testing import FlaskClient

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
