"""tiering's metric families (bounded labels: unit, tier)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter
from prometheus_client.core import Metric

from services.tiering.storage import Tiers
from shared.gauges import gauge

TIER_CHANGES = Counter(
    "tracker_tier_changes_total",
    "Tier changes announced (tier_changed dispatched), by old and new tier.",
    ["from_tier", "to_tier"],
)


def count_change(change: dict[str, Any]) -> None:
    TIER_CHANGES.labels(change["from"], change["to"]).inc()


def storage_gauges(db: Any, config: dict[str, Any]) -> Iterable[Metric]:
    """Firms per unit and tier, from the small (unit, tier) index, never the big records."""
    yield gauge(
        "tracker_firms",
        "Firms by administrative unit and current tier.",
        ["unit", "tier"],
        (((unit or "unknown", tier), n) for (unit, tier), n in Tiers(db).counts_by_unit_and_tier()),
    )
