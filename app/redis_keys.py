"""Every Redis key, channel and prefix QueueChat writes, in one place (web and workers)."""

from __future__ import annotations

STREAM_PREFIX = "qc:stream:"  # one stream of events per reply: qc:stream:{message id}
CANCEL_PREFIX = "qc:cancel:"  # a reply's cancel flag, also its pub/sub channel
ITEM_NAMESPACE = "item:"  # OpenAI API completions: qc:stream:item:{batch item id}
EMBED_RESULT_PREFIX = "qc:embed:"  # /v1/embeddings answers, one list per request
QUOTA_LOCK_PREFIX = "qc:quota-lock:"  # one user's check-then-insert of open work
DOCUMENT_CHANNEL = "qc:documents"  # document progress events (pub/sub)
ACCOUNT_CHANNEL = "qc:accounts"  # logout, deactivation: web processes close those sockets
WS_WAKE_PREFIX = "qc:ws-wake:"  # a web process's stream reader wakes on an entry here
RATE_LIMIT_PREFIX = "qc-limits"  # flask-limiter's counters
LEASE_PREFIX = "qc:lease:"  # a worker's lease on a claimed job: qc:lease:{kind}:{id}
RUNNING_PREFIX = "qc:running:"  # the set of jobs of a kind that some worker took: qc:running:{kind}
REAPER_LOCK = "qc:reaper"  # one reaper pass at a time across every worker


def embed_result_key(request_id: str) -> str:
    return f"{EMBED_RESULT_PREFIX}{request_id}"


def quota_lock_key(user_id: int) -> str:
    return f"{QUOTA_LOCK_PREFIX}{user_id}"


def lease_key(kind: str, job_id: int) -> str:
    return f"{LEASE_PREFIX}{kind}:{job_id}"


def running_key(kind: str) -> str:
    return f"{RUNNING_PREFIX}{kind}"


def ws_wake_key(reader_id: str) -> str:
    return f"{WS_WAKE_PREFIX}{reader_id}"
