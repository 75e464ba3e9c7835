"""incubators' gauges (bounded labels: unit, grade, target, kind; never an incubator id)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy
from prometheus_client.core import Metric

from services.incubators.storage import Incubators
from services.incubators.views import (
    counts_by_unit,
    current_progress,
    open_findings_by_kind_and_unit,
)
from shared.gauges import gauge

INCUBATEE_COUNTS = ("current", "cumulative", "graduated")
REGISTRY_TIMEOUT_SECONDS = 10


def storage_gauges(db: Any, config: dict[str, Any]) -> Iterable[Metric]:
    """Carriers, incubatees, findings and progress, from the carriers, the one-document-per-firm
    incubations and the findings, and the registry's counts of the firms (by RPC)."""
    store = Incubators(db)
    carriers = Counter(
        (c.get("unit") or "unknown", c.get("grade") or "unknown") for c in store.carriers().values()
    )
    yield gauge(
        "tracker_carriers",
        "Incubation carriers by unit and grade.",
        ["unit", "grade"],
        carriers.items(),
    )
    by_unit = counts_by_unit(store)
    for count in INCUBATEE_COUNTS:
        yield gauge(
            f"tracker_incubatees_{count}",
            f"Incubations by the carrier's unit: {count}.",
            ["unit"],
            (((unit,), counts[count]) for unit, counts in by_unit.items()),
        )
    findings = open_findings_by_kind_and_unit(store)
    yield gauge(
        "tracker_findings",
        "Policy findings stored, by kind and unit.",
        ["kind", "unit"],
        findings.items(),
    )
    with ClusterRpcProxy(config, timeout=REGISTRY_TIMEOUT_SECONDS) as cluster:
        firms = cluster.registry.progress_facts()
    report = current_progress(store, config.get("PROGRESS_TARGETS", {}), firms)
    yield gauge(
        "tracker_progress_ratio",
        "Progress to each policy target (1 = reached).",
        ["target"],
        progress_rows(report, "ratio"),
    )
    yield gauge(
        "tracker_progress_actual",
        "Where each policy target stands now.",
        ["target"],
        progress_rows(report, "actual"),
    )
    yield gauge(
        "tracker_progress_target",
        "Each policy target's configured value.",
        ["target"],
        progress_rows(report, "target"),
    )


def progress_rows(report: dict[str, Any], field: str) -> list[tuple[tuple[str], float]]:
    """One value per target; high-tech growth is a rate, so its ratio is growth / target."""
    growth = report["high_tech_growth"]
    values = {
        name: report[name][field]
        for name in ("carriers", "incubated_firms", "tech_smes_registered")
    }
    values["high_tech_growth"] = {
        "actual": growth["growth"],
        "target": growth["target"],
        "ratio": growth["growth"] / growth["target"]
        if growth["growth"] is not None and growth["target"]
        else None,
    }[field]
    return [((name,), value) for name, value in values.items() if value is not None]
