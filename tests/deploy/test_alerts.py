"""The alerting rules and Alertmanager's configuration, checked by Prometheus's own tools
(Debian's prometheus and prometheus-alertmanager packages; the test command installs them)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from flask import Flask

from app.config import PROJECT_ROOT
from tests.deploy.test_compose import SECRETS, resolved, run_compose
from tests.deploy.test_grafana import base_name, exported_names

DEPLOY = PROJECT_ROOT / "deploy"
WANTED_ALERTS = {
    "NoInferenceWorker",
    "ChatQueueWaitHigh",
    "ChatTimeToFirstTokenHigh",
    "ReplyErrorsHigh",
    "IngestFailures",
    "RedisUnreachable",
    "DatabaseUnreachable",
    "VarDiskNearlyFull",
}


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: scripts/test.sh installs it (apt-get install {name})"
    return found


def run(*args: str, cwd: Path = DEPLOY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)


def rules() -> list[dict[str, str]]:
    document = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_fires_and_stays_quiet_where_its_unit_tests_say() -> None:
    checked = run(tool("promtool"), "check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(tool("promtool"), "test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout
    unit_tests = (DEPLOY / "alerts.test.yml").read_text()
    for rule in rules():  # every alert has a firing case
        assert f"alertname: {rule['alert']}" in unit_tests, rule["alert"]


def test_a_broken_rule_fails_its_unit_test(tmp_path: Path) -> None:
    """The unit tests can fail: the chat wait threshold raised past the test's waits."""
    text = (DEPLOY / "alerts.yml").read_text()
    broken = text.replace('{queue="inference"}[5m]))) > 10', '{queue="inference"}[5m]))) > 60')
    assert broken != text
    (tmp_path / "alerts.yml").write_text(broken)
    shutil.copy(DEPLOY / "alerts.test.yml", tmp_path)
    tested = run(tool("promtool"), "test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert tested.returncode != 0 and "ChatQueueWaitHigh" in tested.stdout + tested.stderr


def test_the_alerts_cover_the_operators_list_on_metrics_that_exist(app: Flask) -> None:
    names = {rule["alert"] for rule in rules()}
    assert names >= WANTED_ALERTS, WANTED_ALERTS - names
    exported = exported_names(app)
    for rule in rules():
        used = {base_name(name) for name in re.findall(r"queuechat_\w+", rule["expr"])}
        assert used <= exported, (rule["alert"], used - exported)


def test_prometheus_loads_the_rules_and_sends_to_alertmanager() -> None:
    checked = run(tool("promtool"), "check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "alerts.yml" in checked.stdout  # the rule file was found and checked
    prometheus = resolved()["services"]["prometheus"]
    targets = {volume["target"] for volume in prometheus["volumes"]}
    assert "/etc/prometheus/alerts.yml" in targets
    assert prometheus["depends_on"]["alertmanager"]["condition"] == "service_healthy"


def alertmanager_config() -> str:
    config = resolved()["configs"]["alertmanager"]["content"]
    assert isinstance(config, str)
    return config


def test_alertmanager_config_from_the_environment_passes_amtool(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(alertmanager_config())
    checked = run(tool("amtool"), "check-config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load(path.read_text())
    receiver = config["receivers"][0]
    assert config["route"]["receiver"] == receiver["name"]
    assert receiver["slack_configs"][0]["api_url"] == SECRETS["ALERT_SLACK_WEBHOOK_URL"]
    assert receiver["email_configs"][0]["to"] == SECRETS["ALERT_EMAIL_TO"]
    assert config["global"]["smtp_auth_password"] == SECRETS["ALERT_SMTP_PASSWORD"]
    service = resolved()["services"]["alertmanager"]
    assert service["configs"][0]["target"] == "/etc/alertmanager/alertmanager.yml"
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in service["command"]


def test_amtool_refuses_a_receiver_without_its_address(tmp_path: Path) -> None:
    config = yaml.safe_load(alertmanager_config())
    del config["receivers"][0]["email_configs"][0]["to"]
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    assert run(tool("amtool"), "check-config", str(path)).returncode != 0


@pytest.mark.parametrize("variable", ["ALERT_SLACK_WEBHOOK_URL", "ALERT_EMAIL_TO"])
def test_compose_refuses_to_start_without_a_receiver(variable: str) -> None:
    env = {name: value for name, value in SECRETS.items() if name != variable}
    result = run_compose("config", "--quiet", env=env)
    assert result.returncode != 0 and variable in result.stderr
