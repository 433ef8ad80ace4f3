"""Settings from the environment (and .env); every default works on one laptop."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.model_specs import ModelSpec, served_spec

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of QueueChat; defaults are the embedded one-machine mode."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_pool_size: int = Field(default=32, ge=2)  # connections per process; callers wait

    model_path: Path = PROJECT_ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    model_name: str = ""
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    n_ctx: int = Field(default=2048, ge=256)
    n_gpu_layers: int = 0
    n_batch: int = Field(default=256, ge=8)
    # Several models (a JSON list of {"name", "path", "n_ctx", "n_threads", "n_gpu_layers"}; the
    # first is the default): each has its own chat and batch queues, and an inference worker
    # serves the one WORKER_MODEL names (empty: the first). None listed: MODEL_PATH alone.
    models: list[ModelSpec] = Field(default_factory=list)
    worker_model: str = ""

    jwt_secret_key: str = ""
    access_token_minutes: int = Field(default=30, ge=1)
    refresh_token_days: int = Field(default=14, ge=1)
    registration: Literal["open", "admin"] = "open"
    admin_username: str = "admin"
    admin_password: str = ""

    max_request_bytes: int = Field(default=1_000_000, ge=1024)
    max_message_chars: int = Field(default=8000, ge=1)
    max_title_chars: int = Field(default=200, ge=1)
    default_max_tokens: int = Field(default=512, ge=1)
    max_tokens_limit: int = Field(default=2048, ge=1)
    max_temperature: float = 2.0
    default_temperature: float = 0.7
    default_top_p: float = 0.95

    reply_attempts: int = Field(default=3, ge=1)
    visibility_timeout_s: int = Field(default=3600, ge=1)
    stream_ttl_s: int = Field(default=3600, ge=1)
    # Tokens reach Redis (and browsers) in flushes at most this far apart, the first at once,
    # the others on ticks of this clock shared by every reply on the machine (they write together).
    # Fewer wake-ups of Redis, the web relay and the browser leave the CPU to the model: on two
    # cores 50 ms keeps the delivered rate at the raw decode rate; 20 ms cost about 10 percent.
    stream_flush_ms: int = Field(default=50, ge=0, le=1000)
    stream_live_ttl_s: int = Field(default=86400, ge=60)
    ws_allowed_origins: list[str] = Field(default_factory=list)
    ws_ping_interval_s: int = Field(default=25, ge=1)
    ws_auth_timeout_s: float = Field(default=3.0, gt=0)  # the first frame must authenticate
    # Caps per web process: open sockets per account and per client address (unauthenticated
    # ones included), subscriptions per socket, and commands per socket (a token bucket).
    ws_max_sockets_per_user: int = Field(default=20, ge=1)
    ws_max_sockets_per_ip: int = Field(default=200, ge=1)
    ws_max_subscriptions: int = Field(default=32, ge=1)
    ws_commands_per_second: float = Field(default=10.0, gt=0)
    ws_command_burst: int = Field(default=40, ge=1)
    # Socket commands (auth, subscribe, cancel) run this many at a time per web process; a burst
    # of them (a thousand tabs reconnecting) waits its turn and requests keep theirs.
    ws_command_concurrency: int = Field(default=4, ge=1)
    # Every web process checks the accounts and tokens of its open sockets this often, besides
    # the pub/sub notices of logout and deactivation (a missed notice is caught within this).
    ws_recheck_s: float = Field(default=10.0, gt=0)

    chroma_url: str = "http://127.0.0.1:8100"
    chroma_collection: str = "queuechat-chunks"
    embedding_model_path: str = ""
    embed_batch_size: int = Field(default=128, ge=1)
    chunk_tokens: int = Field(default=200, ge=16)
    chunk_overlap_tokens: int = Field(default=40, ge=0)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    max_upload_files: int = Field(default=20, ge=1)
    max_chat_files: int = Field(default=10, ge=1)  # files attached in one chat, in all
    # bounds against documents that explode: a .docx (a zip) may unpack to this much, each
    # member at most this many times its packed size; extraction stops at these pages,
    # characters and seconds (the document ends as "error" with the reason)
    max_unpacked_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    max_unpack_ratio: int = Field(default=100, ge=1)
    max_document_pages: int = Field(default=2000, ge=1)
    max_document_chars: int = Field(default=5_000_000, ge=1)
    extract_time_limit_s: float = Field(default=300.0, gt=0)
    retrieval_top_k: int = Field(default=5, ge=1, le=50)
    # all-MiniLM-L6-v2's cosine: a passage that answers the question scores 0.5-0.8, one on a
    # neighbouring topic 0.2-0.45, an unrelated one under 0.25 (bench/relevance.py). A passage
    # is kept from RETRIEVAL_MIN_SCORE up, and no more than RETRIEVAL_MAX_GAP below the best one
    # (a policy on meals answers a meal question; the vacation policy next to it does not).
    retrieval_min_score: float = Field(default=0.3, ge=-1.0, le=1.0)
    retrieval_max_gap: float = Field(default=0.25, ge=0.0, le=2.0)
    rag_context_tokens: int = Field(default=700, ge=64)

    flower_user: str = "admin"
    flower_password: str = ""
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    flower_port: int = 5555

    # Batches, per-user caps and the OpenAI-compatible API (issue 6)
    batch_max_lines: int = Field(default=5000, ge=1)
    batch_max_bytes: int = Field(default=5_000_000, ge=1024)
    max_open_replies_per_user: int = Field(default=5, ge=1)
    max_open_batch_items_per_user: int = Field(default=5000, ge=1)
    cap_retry_after_s: int = Field(default=5, ge=1)
    api_wait_timeout_s: float = Field(default=600.0, gt=0)
    embed_timeout_s: float = Field(default=60.0, gt=0)
    # the Batch API (issue 16): files a user keeps (batch inputs and results)
    max_api_files_per_user: int = Field(default=500, ge=1)
    # flask-limiter (Redis storage); "limits" syntax, e.g. "10/minute;100/hour"
    rate_limits_enabled: bool = True
    rate_limit_login_ip: str = "30/minute"
    rate_limit_login_username: str = "10/minute"  # failures of one username from one address
    rate_limit_login_account: str = "100/hour"  # failures of one username from anywhere
    rate_limit_messages: str = "30/minute"
    rate_limit_uploads: str = "60/hour"
    # proxies in front that set X-Forwarded-For/-Proto (nginx in the compose file: 1); their
    # headers are trusted that many hops deep and no further (0: the peer's address is used)
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    rate_limit_register: str = "10/hour"  # per address: each account costs an argon2 hash
    rate_limit_embeddings: str = "60/minute"
    max_embed_chars: int = Field(default=200_000, ge=1)  # all texts of one /v1/embeddings call
    # content filtering: a JSON policy file (words, patterns, a classifier hook, per-template
    # overrides; app/content_policy.py); none: nothing is filtered
    content_policy_path: Path | None = None
    # log lines: "console" (readable, the run command's default) or "json" (one object a line)
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    # prometheus-client multiprocess files; the run command exports it for every process
    prometheus_multiproc_dir: Path | None = None
    # a worker holds a lease on each job it runs, renewed while it works; when the worker dies
    # the lease lapses and a reaper (in every worker, every LEASE_TTL_S / 2) sends the job again
    lease_ttl_s: float = Field(default=10.0, ge=2)
    readyz_timeout_s: float = Field(default=1.0, gt=0)
    readyz_cache_s: float = Field(default=5.0, ge=0)  # one worker broadcast per process at most
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)  # 0: workers serve no /metrics
    # a running batch item gives its place in the engine to a waiting chat reply (and resumes
    # where it was when a place frees)
    batch_preemption: bool = True
    # the next chat reply or API completion to start is the least recently served user's
    # (app/services/fair_share.py); false: first queued, first started
    fair_sharing: bool = True
    # chat jobs a worker takes beyond its engine's places, for users with nothing running: such
    # a job takes the place of a reply of the user who holds the most (-1: as many as places)
    fair_reserve_places: int = Field(default=-1, ge=-1, le=64)
    # replies one inference worker decodes together (0: 16 with a GPU, else 4 to 8 by cores)
    parallel_sequences: int = Field(default=0, ge=0, le=64)
    # prompt tokens a newcomer evaluates per step while other replies stream
    prefill_chunk_tokens: int = Field(default=64, ge=8)
    # host memory for cached sequences evicted from the context (a chat's earlier turns)
    kv_host_cache_mb: int = Field(default=1024, ge=0)

    # OpenID Connect sign-in beside local accounts (off while issuer or client id is empty):
    # discovery at {issuer}/.well-known/openid-configuration, the code flow with PKCE (S256);
    # an account is created on first sign-in, keyed by issuer and subject
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email profile"
    oidc_display_name: str = "single sign-on"  # the login page's button: "Sign in with ..."
    # the ID token claim that lists the user's groups, and the group that makes an admin (the
    # role follows the claim at every sign-in; empty: SSO accounts are ordinary users)
    oidc_groups_claim: str = "groups"
    oidc_admin_group: str = ""
    # the callback URL the provider sends the browser back to; empty: derived from the request
    # (behind a proxy, TRUSTED_PROXIES makes that the public address)
    oidc_redirect_url: str = ""
    oidc_timeout_s: float = Field(default=10.0, gt=0)

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def engine_places(self) -> int:
        """Replies an inference worker decodes together: many on a GPU, where a batch costs
        about one token; on a CPU, where decoding is bound by memory bandwidth, 4 to 8."""
        if self.parallel_sequences:
            return self.parallel_sequences
        if self.n_gpu_layers != 0:
            return 16
        return max(4, min(8, os.cpu_count() or 1))

    @property
    def reserve_places(self) -> int:
        """Chat jobs beyond the engine's places, for light users (none without fair sharing)."""
        if not self.fair_sharing:
            return 0
        return self.engine_places if self.fair_reserve_places < 0 else self.fair_reserve_places

    @model_validator(mode="after")
    def _served_model(self) -> Settings:
        """With MODELS: the model fields are those of the model this process serves."""
        if self.models:  # each spec complete: what it leaves out is N_CTX, N_THREADS, ...
            self.models = [spec.completed(self.n_ctx, self.n_threads, self.n_gpu_layers)
                           for spec in self.models]  # fmt: skip
            spec = served_spec(self.models, self.worker_model)
            self.model_path, self.model_name = spec.path, spec.name
            self.n_ctx, self.n_threads = spec.n_ctx or self.n_ctx, spec.n_threads or self.n_threads
            self.n_gpu_layers = spec.n_gpu_layers if spec.n_gpu_layers is not None else 0
        return self

    def model_file(self, name: str | None) -> tuple[Path, int]:
        """A listed model's GGUF file and context size (None, or unlisted: this process's)."""
        spec = next((spec for spec in self.models if spec.name == name), None)
        if spec is None:
            return self.model_path, self.n_ctx
        return spec.path, spec.n_ctx or self.n_ctx

    @property
    def model_names(self) -> list[str]:
        """Every model this deployment serves, the default first."""
        return [spec.name for spec in self.models] or [self.served_model_name]

    @model_validator(mode="after")
    def _derived_paths(self) -> Settings:
        if self.prometheus_multiproc_dir is None:
            self.prometheus_multiproc_dir = self.var_dir / "prometheus"
        return self

    @property
    def metrics_dir(self) -> Path:
        return self.prometheus_multiproc_dir or self.var_dir / "prometheus"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'queuechat.db'}"

    @property
    def uploads_dir(self) -> Path:
        return self.var_dir / "uploads"

    @property
    def served_model_name(self) -> str:
        """The model this process serves (a web process: the default one)."""
        return self.model_name or (self.models[0].name if self.models else self.model_path.stem)

    def jwt_secret(self) -> str:
        """The configured JWT secret, or one generated once and kept under var/."""
        if self.jwt_secret_key:
            return self.jwt_secret_key
        return read_or_create_secret(self.var_dir / "jwt_secret")

    def flower_basic_auth(self) -> str:
        password = self.flower_password or read_or_create_secret(self.var_dir / "flower_password")
        return f"{self.flower_user}:{password}"


def read_or_create_secret(path: Path) -> str:
    """Read a secret file, creating it (mode 0600) with a random value the first time."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
