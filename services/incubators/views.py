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


def progress(store: Incubators, targets: dict[str, Any]) -> dict[str, Any]:
    """The province against the plan's targets, with counts per city unit."""
    return {**current_progress(store, targets), "by_unit": store.counts_by_unit()}
