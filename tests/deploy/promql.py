"""The PromQL expressions of the dashboards and alert rules, and the metric names they use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import promql_parser
import yaml

from tests.deploy.tools import DASHBOARDS, RULES


def dashboard_exprs(path: Path) -> Iterator[tuple[str, str]]:
    """(where, expr) of every query of every panel."""
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield f"{path.name} panel {panel['title']!r}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"]  # label_values(metric, label)
            yield f"{path.name} variable {variable['name']}", query[13:].split(",")[0]


def rules(path: Path = RULES) -> list[dict]:
    return [
        r for g in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"] for r in g["rules"]
    ]


def rule_exprs(path: Path = RULES) -> Iterator[tuple[str, str]]:
    for rule in rules(path):
        yield f"rule {rule.get('alert') or rule['record']}", rule["expr"]


def recorded_names() -> set[str]:
    """Series the rules record themselves (no exporter has them)."""
    return {rule["record"] for rule in rules() if "record" in rule}


def all_exprs() -> list[tuple[str, str]]:
    """Every query of the dashboards and of the rules that apply wherever the services run
    (alerts.yml); the Kubernetes-only rules need exporters that run only there."""
    return [*(e for path in DASHBOARDS for e in dashboard_exprs(path)), *rule_exprs()]


def metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names
