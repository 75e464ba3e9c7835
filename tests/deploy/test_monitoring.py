"""Dashboards, alert rules and Alertmanager's configuration are well formed: every query parses
as PromQL, every panel has a place and a data source, the generated rule files are what the
generator writes, promtool accepts the rules and the scrape configuration and their unit tests
pass (covering every alert of ours), every alert links a runbook section that exists, and
amtool accepts Alertmanager's configuration. (Whether each metric exists is checked against
live scrapes in tests/e2e/test_metrics_e2e.py; that the alerts fire, against a real Prometheus
in tests/e2e/test_alerts_fire.py.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import promql_parser
import pytest
import yaml

from scripts.monitoring.rules import RUNBOOK_BASE
from tests.deploy.promql import all_exprs, metric_names, rule_exprs, rules
from tests.deploy.tools import (
    DASHBOARDS,
    KUBERNETES_RULES,
    MONITORING,
    ROOT,
    RULES,
    RUNBOOKS,
    tools,
)

RULE_FILES = (RULES, KUBERNETES_RULES)
OPERATOR_PACK_GROUP = re.compile(r".+-operator-pack$")


def exprs() -> list[tuple[str, str]]:
    return [*all_exprs(), *rule_exprs(KUBERNETES_RULES)]


@pytest.mark.parametrize("where,expr", exprs(), ids=lambda v: v[:60])
def test_every_query_parses_and_names_a_metric(where, expr):
    try:
        promql_parser.parse(expr)
    except ValueError as exc:
        pytest.fail(f"{where}: {exc}")
    assert metric_names(expr) or "vector(" in expr, where


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
        "Oldest waiting event",
        "Error budget",
        "Dependencies",
        "Firms per tier",
        "Tier changes",
        "Carriers (target 350)",
        "Incubated firms (target 10,000)",
        "technology SMEs (target 21,000)",
        "Findings",
    ):
        assert needed in titles, needed


def test_entrypoint_panels_leave_out_timers():
    """Panels of call rates, latency and errors: /metrics and the probes are no entrypoints
    (shared/health.py), and the once-a-second delivery timer is filtered out."""
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            for target in panel.get("targets", []):
                if "tracker_entrypoint_" in target["expr"]:
                    assert re.search(r'kind(!="timer"|="http"|="rpc")', target["expr"]), panel[
                        "title"
                    ]


def test_the_generated_rule_files_are_up_to_date():
    done = subprocess.run(
        [sys.executable, "-m", "scripts.monitoring", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    documents = list(yaml.safe_load_all((MONITORING / "prometheusrule.yaml").read_text()))
    assert [d["spec"]["groups"] for d in documents] == [
        yaml.safe_load(path.read_text())["groups"] for path in RULE_FILES
    ]


def sections(page: Path) -> set[str]:
    """The anchors of a runbook page's `## ` headings, as a Markdown renderer makes them."""
    headings = re.findall(r"^## (.+)$", page.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_alert_says_what_it_means_and_links_its_runbook(path):
    for rule in (r for r in rules(path) if "alert" in r):
        name, annotations = rule["alert"], rule["annotations"]
        assert annotations.get("summary") and annotations.get("description"), name
        assert rule["labels"]["severity"] in {"critical", "warning", "page", "ticket"}, name
        url = annotations["runbook_url"]
        assert url.startswith(f"{RUNBOOK_BASE}/"), (name, url)
        page, anchor = urlsplit(url[len(RUNBOOK_BASE) + 1 :]).path, urlsplit(url).fragment
        assert (RUNBOOKS / page).is_file(), (name, page)
        assert anchor in sections(RUNBOOKS / page), f"{name}: no section #{anchor} in {page}"


def promtool(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(tools()["PROMTOOL"]), *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_promtool_accepts_the_rules_and_the_scrape_configuration(tmp_path):
    promtool("check", "rules", *map(str, RULE_FILES))
    config = (MONITORING / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    assert "/etc/prometheus/alerts.yml" in config  # where compose mounts the rules
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/alerts.yml", str(RULES)), encoding="utf-8"
    )
    promtool("check", "config", str(tmp_path / "prometheus.yml"))


def covered(test_file: Path) -> set[str]:
    """Alerts some case expects to fire (`ALERTS{alertname=...}` in an expected sample)."""
    tested = yaml.safe_load(test_file.read_text(encoding="utf-8"))
    return {
        name
        for test in tested["tests"]
        for case in test.get("promql_expr_test", [])
        for sample in case["exp_samples"]
        for name in re.findall(r'alertname="([^"]+)"', sample["labels"])
    }


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_alert_of_ours_fires_when_it_should_and_only_then(path):
    """<file>.test.yml: synthetic series for each alert, with series that must not fire beside
    them; the RabbitMQ operator's own pack is its authors' to test."""
    test_file = path.with_name(path.name.replace(".yml", ".test.yml"))
    ours = {
        rule["alert"]
        for group in yaml.safe_load(path.read_text())["groups"]
        if not OPERATOR_PACK_GROUP.match(group["name"])
        for rule in group["rules"]
        if "alert" in rule
    }
    assert covered(test_file) == ours
    assert "SUCCESS" in promtool("test", "rules", test_file.name, cwd=path.parent)


def test_alertmanager_routes_to_mailpit_and_amtool_accepts_it():
    path = MONITORING / "alertmanager" / "alertmanager.yml"
    done = subprocess.run(
        [str(tools()["AMTOOL"]), "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert config["global"]["smtp_smarthost"] == "mailpit:1025"
    prometheus = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    targets = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]
