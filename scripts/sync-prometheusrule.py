#!/usr/bin/env python3
"""Writes deploy/monitoring/prometheusrule.yaml (the Kubernetes PrometheusRule) from the one
rule file, deploy/monitoring/prometheus/alerts.yml, which docker-compose's Prometheus loads.
tests/ops/test_monitoring.py fails when the two differ."""

from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parent.parent / "deploy" / "monitoring"
HEADER = """\
# GENERATED from prometheus/alerts.yml by scripts/sync-prometheusrule.py: edit that file.
# The Prometheus operator's form of the same rules (docker-compose loads alerts.yml itself).
"""


def prometheus_rule(rules: dict) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "tracker", "labels": {"app.kubernetes.io/name": "tracker"}},
        "spec": {"groups": rules["groups"]},
    }


def main() -> None:
    rules = yaml.safe_load((MONITORING / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    text = yaml.safe_dump(prometheus_rule(rules), sort_keys=False, allow_unicode=True, width=100)
    (MONITORING / "prometheusrule.yaml").write_text(HEADER + text, encoding="utf-8")


if __name__ == "__main__":
    main()
