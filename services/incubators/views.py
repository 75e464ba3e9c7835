"""What the incubators service's read endpoints answer."""

from __future__ import annotations

from typing import Any

from services.incubators.handling import current_progress
from services.incubators.storage import Incubators
from shared.http import Problem


def incubator(store: Incubators, incubator_id: str) -> dict[str, Any]:
    """A carrier, the firms it incubates now, its counts and its findings."""
    carrier = store.carrier(incubator_id)
    if carrier is None:
        raise Problem(404, "Not Found", f"no incubator {incubator_id}")
    return {
        "incubator": carrier,
        "current_incubatees": store.open_incubations(incubator_id),
        "counts": store.counts(incubator_id),
        "findings": store.findings_of(incubator_id),
    }


def firm_counts(registry: Any) -> dict[str, Any]:
    """What the registry counts of the firms (technology SMEs, high-tech certificates), or a 503
    that says the registry does not answer."""
    try:
        return dict(registry.progress_facts())
    except Exception as exc:  # the registry is down or slow: say so, do not guess
        raise Problem(
            503, "Service Unavailable", f"the registry's firm counts are unavailable: {exc}"
        ) from None


def progress(store: Incubators, targets: dict[str, Any], firms: dict[str, Any]) -> dict[str, Any]:
    """The province against the plan's targets, with counts per city unit."""
    return {**current_progress(store, targets, firms), "by_unit": store.counts_by_unit()}
