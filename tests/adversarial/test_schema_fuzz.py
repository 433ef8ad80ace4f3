"""Schemathesis over /api/openapi.json against the real app (a real HTTP server in front of it,
real Redis, a database of its own, a queue nobody consumes): every phase `st run` has
(examples, coverage, fuzzing, stateful sequences over the links it infers) with every default
check. No response may
be a 5xx, and each must conform to the spec: a declared status, a declared content type, a body
that matches its schema, an Allow header that names the operation's methods.

Users' operations run with a user's access token, admins' with an admin's, both through the
spec's bearer scheme. Logout revokes the token it is sent with, so it runs last, on its own.
A fixed seed, derandomized generation, no example database and a bound on examples make every
run generate the same inputs: a failure here is a regression, not a flake."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.engine import StopReason, events, from_schema

from app import create_app
from app.config import Settings
from app.enums import Role
from app.migrate import upgrade
from app.models import User
from app.services.accounts import hash_password
from testkit.processes import LiveServer, postgres_database
from tests.conftest import isolated_settings, register_and_login

SEED = 20261202
MAX_EXAMPLES = 10  # per operation and phase: about 1,700 requests a database, about a minute
LOGOUT = "POST /api/auth/logout"
# What schemathesis expects of a request its schema calls valid, widened per operation only by
# the refusals no JSON Schema can state: a file's bytes (its real type, its JSONL lines), and an
# id in the body that must name an existing row (422: the URL's own resource was found)
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
SEMANTIC_REFUSALS = {
    "POST /api/documents": ["413", "415", "422"],
    "POST /api/sessions/{session_id}/files": ["413", "415", "422"],
    "POST /api/batches": ["413", "422"],
    "POST /v1/files": ["413", "422"],
    "POST /api/sessions": ["422"],
    "PATCH /api/sessions/{session_id}": ["422"],
    # an import's chats must hold text (a ChatGPT node may have none); a chat must have turns
    # to be shared
    "POST /api/sessions/import": ["413", "422"],
    "POST /api/sessions/{session_id}/shares": ["422"],
    # a report window: start after end, or longer than MAX_REPORT_DAYS
    "GET /api/usage": ["422"],
    "GET /api/admin/usage": ["422"],
    "GET /api/admin/usage/export": ["422"],
}


# What schemathesis expects when its request breaks the schema, widened where a body that breaks
# it by its size (maxItems of long strings) is past the request limit first: 413
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]
TOO_LARGE = {"POST /api/sessions/import": ["413"]}


def widened_checks(name: str) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    if name in SEMANTIC_REFUSALS:
        accepted = ACCEPTED + SEMANTIC_REFUSALS[name]
        checks["positive_data_acceptance"] = {"expected-statuses": accepted}
    if name in TOO_LARGE:
        checks["negative_data_rejection"] = {"expected-statuses": REJECTED + TOO_LARGE[name]}
    return checks


# OpenAI's synchronous generation waits for a worker (up to API_WAIT_TIMEOUT_S): on a queue
# nobody consumes every valid request would wait that long, so these are not fuzzed here
WAITS_FOR_A_WORKER = {"POST /v1/chat/completions", "POST /v1/completions", "POST /v1/embeddings"}


def is_admin_operation(method: str, path: str) -> bool:
    templates_changed = path.startswith("/api/templates") and method.upper() != "GET"
    return path.startswith(("/api/admin/", "/api/documents")) or templates_changed


PASSES: dict[str, tuple[Role, Callable[[str, str], bool]]] = {
    "user": (
        Role.USER,
        lambda method, path: (
            not is_admin_operation(method, path) and f"{method.upper()} {path}" != LOGOUT
        ),
    ),
    "admin": (Role.ADMIN, is_admin_operation),
    "logout": (Role.USER, lambda method, path: f"{method.upper()} {path}" == LOGOUT),
}


def access_token(app: Flask, role: Role) -> str:
    client = app.test_client()
    if role == Role.USER:
        return register_and_login(client)["Authorization"].removeprefix("Bearer ")
    username, password = f"fuzzadmin{uuid.uuid4().hex[:6]}", "admin password"
    with app.extensions["queuechat"].db.session() as db:
        db.add(User(username=username, password_hash=hash_password(password), role=Role.ADMIN))
    answer = client.post("/api/auth/login", json={"username": username, "password": password})
    return str(answer.json["access_token"])  # type: ignore[index]


def operation_names(app: Flask) -> list[tuple[str, str]]:
    spec: Any = app.test_client().get("/api/openapi.json").json
    return [(method.upper(), path) for path, methods in spec["paths"].items() for method in methods]


def schema_for(app: Flask, server: LiveServer, run: str) -> Any:
    role, wanted = PASSES[run]
    # disabled in the config, not filtered out of the schema: the stateful phase links every
    # operation of the spec, and only the config keeps it away from the others' operations
    others = [
        f"{m} {p}"
        for m, p in operation_names(app)
        if not wanted(m, p) or f"{m} {p}" in WAITS_FOR_A_WORKER
    ]
    widened = [{"include-name": others, "enabled": False}] + [
        {"include-name": name, "checks": widened_checks(name)}
        for name in SEMANTIC_REFUSALS.keys() | TOO_LARGE.keys()
    ]
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # no example database: nothing a past run stored changes what this run sends
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "auth": {"openapi": {"bearer": {"bearer": access_token(app, role)}}},
            "operations": widened,
        }
    )
    return schemathesis.openapi.from_url(f"{server.url}/api/openapi.json", config=config)


@dataclass
class Outcome:
    requests: Counter[str] = field(default_factory=Counter)  # by phase
    statuses: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    links: int = 0  # transitions the stateful phase inferred between operations
    failures: list[str] = field(default_factory=list)

    def record(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            self.operations.update(
                node.value.operation.label for node in event.recorder.cases.values()
            )
            for interaction in event.recorder.interactions.values():
                self.requests[event.phase.value] += 1
                if interaction.response is not None:
                    self.statuses[interaction.response.status_code] += 1
            for checks in event.recorder.checks.values():
                self.failures.extend(
                    f"{event.recorder.label}: {check.name}: {check.failure_info.failure.title}\n"
                    f"{check.failure_info.failure.message}\n{check.failure_info.code_sample}"
                    for check in checks
                    if check.failure_info is not None
                )
        elif isinstance(event, events.PhaseStarted) and event.payload is not None:
            self.links += event.payload.inferred_transitions
        elif isinstance(event, events.NonFatalError):
            self.failures.append(f"{event.label}: error: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            self.failures.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            self.failures.extend(str(failure) for failure in event.failures)
            if event.stop_reason != StopReason.COMPLETED:
                self.failures.append(f"the run stopped early: {event.stop_reason.value}")


def fuzz(schema: Any, outcome: Outcome) -> None:
    for event in from_schema(schema).execute():
        outcome.record(event)


@pytest.fixture()
def fuzzed_app(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    """The app on a database of its own (of the run's kind) and a queue nobody consumes: what
    the fuzzer stores (a default template with a system prompt that fills the context, budgets,
    disabled accounts) must not reach the tests after it."""
    with ExitStack() as stack:
        if settings.database_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / 'fuzz.db'}"
        else:
            url = stack.enter_context(postgres_database())
        upgrade(url)
        app = create_app(isolated_settings(settings, 11, database_url=url))
        stack.callback(app.extensions["queuechat"].db.dispose)
        yield app


@pytest.fixture()
def server(fuzzed_app: Flask) -> Iterator[LiveServer]:
    live = LiveServer(fuzzed_app)
    yield live
    live.stop()


def test_no_5xx_and_every_response_conforms_to_the_spec(
    fuzzed_app: Flask, server: LiveServer
) -> None:
    outcome = Outcome()
    for run in PASSES:  # logout last: it revokes its token
        fuzz(schema_for(fuzzed_app, server, run), outcome)
    print(  # noqa: T201  the figures the README quotes
        f"\nschemathesis: {len(outcome.operations)} operations, "
        f"{sum(outcome.requests.values())} requests {dict(outcome.requests)}, "
        f"{outcome.links} inferred links, statuses {dict(sorted(outcome.statuses.items()))}"
    )
    spec = fuzzed_app.test_client().get("/api/openapi.json").json
    documented = sum(len(methods) for methods in spec["paths"].values())  # type: ignore[index]
    # every one was called, but those that wait for a worker
    assert len(outcome.operations) == documented - len(WAITS_FOR_A_WORKER), outcome.operations
    assert outcome.requests["stateful"] > 0 and outcome.links > 0
    assert not outcome.failures, "\n\n".join(sorted(set(outcome.failures)))
    assert not [status for status in outcome.statuses if status >= 500]
