"""What the /v1 generation endpoints share: the model check, and a request screened by the
content policy, queued with the caller's key (usage per key) and named as OpenAI names it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from app.api.deps import caller_api_key_id
from app.api.rate_limits import client_address
from app.errors import NotFound
from app.extensions import get_db, resources
from app.models import BatchItem, User
from app.services.completions import queue_completion
from app.services.models import require_model
from app.services.screening import screen_input


def check_model(name: str, served: str) -> None:
    if name != served:
        raise NotFound(f"model {name!r} does not exist; this server serves {served!r}")


def queued_request(
    user: User, model: str, wanted: dict[str, Any], texts: Iterable[str], id_prefix: str
) -> tuple[BatchItem, dict[str, Any]]:
    """The queued item and the fields every answer about it starts with (id, created, model);
    404 for a model not listed, 503 for one no worker serves, ContentBlocked when the policy
    blocks one of ``texts``."""
    res, db = resources(), get_db()
    require_model(res, model)  # 404 for a model not listed, 503 while no worker serves it
    screen_input(res, db, texts, template_name=wanted.get("template"), actor=user,
                 ip=client_address())  # fmt: skip
    item = queue_completion(res, db, user.id, wanted, model, caller_api_key_id())
    return item, {"id": f"{id_prefix}-{item.id}", "created": int(time.time()), "model": model}
