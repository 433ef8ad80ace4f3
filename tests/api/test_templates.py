from __future__ import annotations

from flask.testing import FlaskClient


def test_template_crud_examples_order_and_default(
    client: FlaskClient, admin_headers: dict[str, str], auth_headers: dict[str, str]
) -> None:
    created = client.post(
        "/api/templates",
        json={
            "name": "support",
            "system_prompt": "Be kind.",
            "examples": [
                {"user_input": "a", "assistant_output": "1"},
                {"user_input": "b", "assistant_output": "2"},
            ],
        },
        headers=admin_headers,
    )
    assert created.status_code == 201
    template_id = created.json["id"]
    assert [(e["position"], e["user_input"]) for e in created.json["examples"]] == [
        (0, "a"),
        (1, "b"),
    ]
    reordered = client.put(
        f"/api/templates/{template_id}/examples",
        json={
            "examples": [
                {"user_input": "b", "assistant_output": "2"},
                {"user_input": "a", "assistant_output": "1"},
                {"user_input": "c", "assistant_output": "3"},
            ]
        },
        headers=admin_headers,
    )
    assert [e["user_input"] for e in reordered.json["examples"]] == ["b", "a", "c"]
    edited = client.patch(
        f"/api/templates/{template_id}", json={"system_prompt": "Be brief."}, headers=admin_headers
    )
    assert edited.json["system_prompt"] == "Be brief."
    other = client.post(
        "/api/templates", json={"name": "other", "system_prompt": "x"}, headers=admin_headers
    ).json
    assert client.post(f"/api/templates/{template_id}/default", headers=admin_headers).json[
        "is_default"
    ]
    assert client.post(f"/api/templates/{other['id']}/default", headers=admin_headers).json[
        "is_default"
    ]
    listed = {
        t["name"]: t for t in client.get("/api/templates", headers=auth_headers).json["items"]
    }
    assert not listed["support"]["is_default"] and listed["other"]["is_default"]
    off = client.patch(
        f"/api/templates/{other['id']}", json={"active": False}, headers=admin_headers
    )
    assert off.status_code == 409
    assert client.delete(f"/api/templates/{template_id}", headers=admin_headers).status_code == 204
    assert client.get(f"/api/templates/{template_id}", headers=auth_headers).status_code == 404
    client.delete(f"/api/templates/{other['id']}", headers=admin_headers)


def test_template_rules_for_users_and_bad_input(
    client: FlaskClient, admin_headers: dict[str, str], auth_headers: dict[str, str]
) -> None:
    body = {"name": "x1", "system_prompt": "y"}
    assert client.post("/api/templates", json=body, headers=auth_headers).status_code == 403
    made = client.post("/api/templates", json=body, headers=admin_headers).json
    assert client.post("/api/templates", json=body, headers=admin_headers).status_code == 409
    for bad in (
        {"name": "", "system_prompt": "y"},
        {"name": "n"},
        {"name": "n", "system_prompt": 3},
        {"name": "n", "system_prompt": "y", "examples": [{"user_input": "only"}]},
    ):
        assert client.post("/api/templates", json=bad, headers=admin_headers).status_code == 422
    for method, url in (
        ("patch", f"/api/templates/{made['id']}"),
        ("delete", f"/api/templates/{made['id']}"),
        ("post", f"/api/templates/{made['id']}/default"),
        ("put", f"/api/templates/{made['id']}/examples"),
    ):
        response = getattr(client, method)(url, json={"examples": []}, headers=auth_headers)
        assert response.status_code == 403, (method, url)
    chat = client.post("/api/sessions", json={"template_id": 999999}, headers=auth_headers)
    assert chat.status_code == 422
    client.patch(f"/api/templates/{made['id']}", json={"active": False}, headers=admin_headers)
    inactive = client.post("/api/sessions", json={"template_id": made["id"]}, headers=auth_headers)
    assert inactive.status_code == 422
    client.delete(f"/api/templates/{made['id']}", headers=admin_headers)
