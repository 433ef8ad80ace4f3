"""The Grafana dashboard queries metrics QueueChat exports, from the provisioned source."""

from __future__ import annotations

import json
import re

import yaml
from flask import Flask

from app import metrics
from app.api.prometheus import ScrapeTimeCollector
from app.config import PROJECT_ROOT

GRAFANA = PROJECT_ROOT / "deploy" / "grafana"
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def exported_names(app: Flask) -> set[str]:
    names = {
        metric._name
        for metric in vars(metrics).values()
        if hasattr(metric, "_name") and hasattr(metric, "labels")
    }
    with app.app_context():
        names |= {family.name for family in ScrapeTimeCollector().collect()}
    return names


def base_name(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_dashboard_queries_exported_metrics_from_the_provisioned_source(app: Flask) -> None:
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    source = sources["datasources"][0]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/queuechat.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"

    dashboard = json.loads((GRAFANA / "dashboards/queuechat.json").read_text())
    assert dashboard["uid"] == "queuechat-overview"
    exported = exported_names(app)
    used: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        for target in panel["targets"]:
            found = re.findall(r"queuechat_\w+", target["expr"])
            assert found, target["expr"]
            used |= {base_name(name) for name in found}
    assert used <= exported, used - exported
    for wanted in (
        "queuechat_queue_depth",
        "queuechat_jobs",
        "queuechat_tokens_generated",
        "queuechat_time_to_first_token_seconds",
        "queuechat_tokens_per_second",
        "queuechat_http_request_duration_seconds",
        "queuechat_ingest_chunks",
        "queuechat_engine_steps_ended_early",
    ):
        assert wanted in used, wanted
