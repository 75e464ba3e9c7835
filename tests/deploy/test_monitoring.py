"""Dashboards and alert rules are well formed: every query parses as PromQL, every panel has a
place and a data source, and the Kubernetes PrometheusRule carries exactly the rule file's
groups. (Whether each metric exists is checked against live scrapes in
tests/e2e/test_metrics_e2e.py.)"""

from __future__ import annotations

import json

import promql_parser
import pytest
import yaml

from tests.deploy.promql import all_exprs, metric_names
from tests.deploy.tools import DASHBOARDS, MONITORING, RULES


@pytest.mark.parametrize("where,expr", all_exprs(), ids=lambda v: v[:60])
def test_every_query_parses_and_names_a_metric(where, expr):
    try:
        promql_parser.parse(expr)
    except ValueError as exc:
        pytest.fail(f"{where}: {exc}")
    assert metric_names(expr), where


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_are_complete(path):
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard["uid"].startswith("tracker-") and "tracker" in dashboard["tags"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"]


def test_the_required_panels_are_there():
    titles = " | ".join(
        p["title"]
        for path in DASHBOARDS
        for p in json.loads(path.read_text(encoding="utf-8"))["panels"]
    )
    for needed in (
        "Events consumed",
        "latency percentiles",
        "Error ratio",
        "Queue depth",
        "Consumers",
        "Dead letters",
        "Retries",
        "Firms per tier",
        "Tier changes",
        "Carriers (target 350)",
        "Incubated firms (target 10,000)",
        "technology SMEs (target 21,000)",
        "Findings",
    ):
        assert needed in titles, needed


def test_the_alert_rules_cover_what_operators_need():
    alerts = {
        rule["alert"]: rule["expr"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }
    assert "tracker_dead_letters_parked" in alerts["TrackerDeadLettersGrowing"]
    assert "rabbitmq_queue_consumers" in alerts["TrackerQueueWithoutConsumer"]
    assert "tracker_entrypoint_errors_total" in alerts["TrackerErrorRatioHigh"]
    assert "tracker_alert_deliveries_total" in alerts["TrackerNotificationsFailing"]
    assert 'up{job="tracker"}' in alerts["TrackerServiceNotScraped"]


def test_the_prometheusrule_is_the_rule_file():
    rule = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text(encoding="utf-8"))
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"], (
        "run scripts/sync-prometheusrule.py"
    )
