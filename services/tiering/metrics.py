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
    rows = Tiers(db).tier_index.aggregate(
        [{"$group": {"_id": {"unit": "$unit", "tier": "$tier"}, "n": {"$sum": 1}}}]
    )
    yield gauge(
        "tracker_firms",
        "Firms by administrative unit and current tier.",
        ["unit", "tier"],
        (((r["_id"]["unit"] or "unknown", r["_id"]["tier"]), r["n"]) for r in rows),
    )
