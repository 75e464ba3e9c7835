"""Dashboards and alert rules are well formed: every query parses as PromQL, every panel has a
place and a data source, the Kubernetes PrometheusRule carries exactly the rule file's groups,
promtool accepts the rules and the scrape configuration, and the rules' unit tests pass.
(Whether each metric exists is checked against live scrapes in tests/e2e/test_metrics_e2e.py.)
"""

from __future__ import annotations

import json
import subprocess

import promql_parser
import pytest
import yaml

from tests.deploy.promql import all_exprs, metric_names
from tests.deploy.tools import DASHBOARDS, MONITORING, RULES, tools


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


def promtool(*args: str, cwd=None) -> str:
    done = subprocess.run(
        [str(tools()["PROMTOOL"]), *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_promtool_accepts_the_rules_and_the_scrape_configuration(tmp_path):
    promtool("check", "rules", str(RULES))
    config = (MONITORING / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    assert "/etc/prometheus/alerts.yml" in config  # where compose mounts the rules
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/alerts.yml", str(RULES)), encoding="utf-8"
    )
    promtool("check", "config", str(tmp_path / "prometheus.yml"))


def test_every_alert_fires_when_it_should_and_only_then():
    """deploy/monitoring/prometheus/alerts.test.yml: synthetic series for each alert, with
    series that must not fire beside them (a queue with consumers, a retry queue, ...)."""
    tested = yaml.safe_load((RULES.parent / "alerts.test.yml").read_text(encoding="utf-8"))
    covered = {
        case["alertname"]
        for test in tested["tests"]
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    alerts = {
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }
    assert covered == alerts
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yml", cwd=RULES.parent)
