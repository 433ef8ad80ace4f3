"""The official openai client against the running server, a real worker and the real model."""

from __future__ import annotations

import httpx
import openai
import pytest
from flask.testing import FlaskClient

from app.config import Settings
from testkit.processes import LiveServer, WorkerProcess

PROMPT = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]


def create_key(client: FlaskClient, headers: dict[str, str], name: str = "laptop") -> str:
    response = client.post("/api/keys", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    key: str = response.json["key"]
    return key


@pytest.fixture()
def api(
    client: FlaskClient,
    auth_headers: dict[str, str],
    live_server: LiveServer,
    celery_worker: WorkerProcess,
) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{live_server.url}/v1", api_key=create_key(client, auth_headers), max_retries=0
    )


def test_keys_are_shown_once_listed_without_secret_and_revocable(
    client: FlaskClient,
    auth_headers: dict[str, str],
    other_headers: dict[str, str],
    live_server: LiveServer,
) -> None:
    key = create_key(client, auth_headers)
    assert key.startswith("qc-") and len(key) > 40
    listed = client.get("/api/keys", headers=auth_headers).json["items"]
    assert len(listed) == 1 and "key" not in listed[0]
    assert key.startswith(listed[0]["prefix"])
    assert client.get("/api/keys", headers=other_headers).json["items"] == []
    models = httpx.get(f"{live_server.url}/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert models.status_code == 200
    assert client.get("/api/keys", headers=auth_headers).json["items"][0]["last_used_at"]
    key_id = listed[0]["id"]
    assert client.delete(f"/api/keys/{key_id}", headers=other_headers).status_code == 404
    revoked = client.delete(f"/api/keys/{key_id}", headers=auth_headers)
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    refused = openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="invalid or revoked API key"):
        refused.models.list()
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=f"{live_server.url}/v1", api_key="qc-made-up", max_retries=0
        ).models.list()


def test_models_lists_the_served_model(api: openai.OpenAI, settings: Settings) -> None:
    assert settings.served_model_name in [model.id for model in api.models.list()]


def test_completion_with_max_tokens_and_usage(api: openai.OpenAI, settings: Settings) -> None:
    completion = api.chat.completions.create(
        model=settings.served_model_name, messages=PROMPT, max_tokens=5, temperature=0
    )
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason == "length"
    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens == 5 and usage.prompt_tokens > 5
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert completion.model == settings.served_model_name
    assert completion.id.startswith("chatcmpl-")


def test_stop_sequence_ends_the_reply(api: openai.OpenAI, settings: Settings) -> None:
    full = api.chat.completions.create(
        model=settings.served_model_name, messages=PROMPT, max_tokens=24, temperature=0
    )
    text = full.choices[0].message.content or ""
    assert "3" in text, text
    stopped = api.chat.completions.create(
        model=settings.served_model_name, messages=PROMPT, max_tokens=24, temperature=0, stop=["3"]
    )
    assert stopped.choices[0].message.content == text[: text.index("3")]
    assert stopped.choices[0].finish_reason == "stop"


def test_streaming_matches_the_non_streamed_reply(api: openai.OpenAI, settings: Settings) -> None:
    params = {"model": settings.served_model_name, "messages": PROMPT, "max_tokens": 12,
              "temperature": 0, "top_p": 0.9}  # fmt: skip
    whole = api.chat.completions.create(**params)  # type: ignore[call-overload]
    chunks = list(
        api.chat.completions.create(  # type: ignore[call-overload]
            **params, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3
    assert text == whole.choices[0].message.content
    finishing = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishing == ["length"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 12
    assert chunks[-1].usage.prompt_tokens == whole.usage.prompt_tokens  # type: ignore[union-attr]


def test_bad_requests_are_clear_errors(api: openai.OpenAI, settings: Settings) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        api.chat.completions.create(model="gpt-9", messages=PROMPT)
    with pytest.raises(openai.UnprocessableEntityError, match="invalid"):
        api.chat.completions.create(model=settings.served_model_name, messages=[])
    with pytest.raises(openai.UnprocessableEntityError, match="over the limit"):
        api.chat.completions.create(
            model=settings.served_model_name, messages=PROMPT, max_tokens=10**6
        )
