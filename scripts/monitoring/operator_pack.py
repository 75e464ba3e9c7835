"""The RabbitMQ cluster operator's own alert pack (its observability/prometheus/rules at the
operator's release), with a runbook link added to each alert. It needs kube-state-metrics and
the operator's labels, so it is for Kubernetes only. scripts/ensure-ops-tools.sh fetches the
files from the operator's Go module; they are read from there, never copied by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scripts.monitoring.rules import runbook_url

VERSION = "v1.14.0"  # the operator release whose CRDs tests/deploy validates against
# observability/prometheus/rules/<dir>/<name>.yml. Left out: rabbitmq-per-object (the queue
# alerts are ours, on the tracker's queues) and rabbitmq/recording-rules (series for the
# operator's "RabbitMQ-Alerts" dashboard, not shipped here; promtool rejects them as duplicates).
FILES = (
    "rabbitmq/container-restarts",
    "rabbitmq/file-descriptors-near-limit",
    "rabbitmq/high-connection-churn",
    "rabbitmq/insufficient-established-erlang-distribution-links",
    "rabbitmq/low-disk-watermark-predicted",
    "rabbitmq/no-majority-of-nodes-ready",
    "rabbitmq/persistent-volume-missing",
    "rabbitmq/tcp-sockets-near-limit",
    "rabbitmq/unroutable-messages",
    "rabbitmq-cluster-operator/unavailable-replicas",
)


def cached_name(path: str) -> str:
    """Where scripts/ensure-ops-tools.sh keeps one file of the pack."""
    return f"rabbitmq-rules-{path.replace('/', '-')}.yml"


def groups(schemas: Path) -> list[dict[str, Any]]:
    """The pack's rule groups, merged by name (a rule file needs unique group names)."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for path in FILES:
        document = yaml.safe_load((schemas / cached_name(path)).read_text(encoding="utf-8"))
        for upstream in document["spec"]["groups"]:
            for rule in upstream["rules"]:
                if "alert" in rule:
                    annotations = rule.setdefault("annotations", {})
                    annotations["runbook_url"] = runbook_url("rabbitmq", rule["alert"])
                merged.setdefault(upstream["name"], []).append(rule)
    return [{"name": f"{name}-operator-pack", "rules": rules} for name, rules in merged.items()]
