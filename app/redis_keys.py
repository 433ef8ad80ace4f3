"""Every Redis key, channel and prefix QueueChat writes, in one place (web and workers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

DEPLOYMENT_KEY = "qc:deployment"  # the instance id of the database these keys belong to
STREAM_PREFIX = "qc:stream:"  # one stream of events per reply: qc:stream:{message id}
CANCEL_PREFIX = "qc:cancel:"  # a reply's cancel flag, also its pub/sub channel
ITEM_NAMESPACE = "item:"  # OpenAI API completions: qc:stream:item:{batch item id}
EMBED_RESULT_PREFIX = "qc:embed:"  # /v1/embeddings answers, one list per request
QUOTA_LOCK_PREFIX = "qc:quota-lock:"  # one user's check-then-insert of open work
DOCUMENT_CHANNEL = "qc:documents"  # document progress events (pub/sub)
ACCOUNT_CHANNEL = "qc:accounts"  # logout, deactivation: web processes close those sockets
WS_SEATS_PREFIX = "qc:ws-seats:"  # open sockets per address and per account, all web processes
WS_WAKE_PREFIX = "qc:ws-wake:"  # a web process's stream reader wakes on an entry here
RATE_LIMIT_PREFIX = "qc-limits"  # flask-limiter's counters
LEASE_PREFIX = "qc:lease:"  # a worker's lease on a claimed job: qc:lease:{kind}:{id}
RUNNING_PREFIX = "qc:running:"  # the set of jobs of a kind that some worker took: qc:running:{kind}
REAPER_LOCK = "qc:reaper"  # one reaper pass at a time across every worker
SSO_CODE_PREFIX = "qc:sso-code:"  # one-time codes that end an OpenID Connect sign-in
OIDC_STATE_PREFIX = "qc:oidc-state:"  # a sign-in in progress: state, nonce, PKCE verifier
FAIR_SERVED = "qc:fair:served"  # user id -> the turn when a job of theirs last started
FAIR_CLOCK = "qc:fair:clock"  # the turn counter behind qc:fair:served
# "{task}:{id}" of each chat reply and API completion sent to this broker and not yet started:
# fair sharing picks among these only (a queued row whose ticket went elsewhere is not ours)
FAIR_TICKETS = "qc:fair:tickets"
FAIR_ARRIVALS = "qc:fair:arrivals"  # channel: a ticket was sent (its model's name)
SENT_ITEMS = "qc:sent:items"  # batch items sent on this broker and not yet seen taken
SENT_DOCUMENTS = "qc:sent:documents"  # documents sent to ingest and not yet seen taken
SENT_EMBEDDINGS = "qc:sent:embeddings"  # Batch API embeddings lines sent, not yet seen taken
LOST_SUSPECTS = "qc:lost:suspects"  # "task:id" -> when a queued job was first seen without a task
LOST_SWEEP_LOCK = "qc:lost:sweep"  # one look for lost tasks per lease across every worker


def db_channel(client: redis.Redis, name: str) -> str:
    """A pub/sub channel of the client's database. Redis's channels are the server's, not a
    database's: deployments (and test runs) on one server's databases would hear each other's
    cancels and notices (a cancel of reply 5 would stop another deployment's reply 5)."""
    return f"{name}@{client.connection_pool.connection_kwargs.get('db', 0)}"


def held_key(worker_id: str) -> str:
    """ "{task}:{id}" of each job's task an inference worker received and has not started: a
    worker that dies takes them off the queue with it (kombu gives them back only after the
    visibility timeout), so the reaper sends them again when its presence lapses."""
    return f"qc:held:{worker_id}"


def fair_ticket(task: str, job_id: int) -> str:
    return f"{task}:{job_id}"


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


def sso_code_key(code: str) -> str:
    return f"{SSO_CODE_PREFIX}{code}"


def oidc_state_key(name: str) -> str:
    return f"{OIDC_STATE_PREFIX}{name}"


WORKER_PREFIX = "qc:worker:"  # an inference worker's presence (expires unless renewed): JSON
WORKERS_SET = "qc:workers"  # every inference worker that announced itself, alive or not
HOLDER_PREFIX = "qc:holder:"  # the worker that holds a chat's evaluated tokens: qc:holder:{chat}
ROUTED_PREFIX = "qc:routed:"  # replies sent to one worker's own queue: qc:routed:{worker}
WINDOW_PREFIX = "qc:window:"  # the message a chat's last prompt started at: qc:window:{chat}


def worker_key(worker_id: str) -> str:
    return f"{WORKER_PREFIX}{worker_id}"


def holder_key(session_id: int) -> str:
    return f"{HOLDER_PREFIX}{session_id}"


def window_key(session_id: int) -> str:
    return f"{WINDOW_PREFIX}{session_id}"


def routed_key(worker_id: str) -> str:
    return f"{ROUTED_PREFIX}{worker_id}"
