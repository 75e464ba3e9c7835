"""Who receives an alert, and which subscriptions want it. Plain functions, no I/O.

An alert goes to the unit of its firm or carrier (the contract's rule: zones first, then
梅河口, then the prefecture; tiering and incubators resolve it with shared.domain.units). The
province (220000) also receives every change to or from 独角兽, and a daily digest of everything.
"""

from __future__ import annotations

from typing import Any

from shared.domain.units import PROVINCE, UNITS

UNICORN = "unicorn"


def recipients(kind: str, event: dict[str, Any]) -> list[str]:
    unit = event.get("unit")
    units = [unit] if unit in UNITS else []
    if kind == "tier_changed" and UNICORN in (event.get("from"), event.get("to")):
        units.append(PROVINCE)
    return units


def wants(subscription: dict[str, Any], alert: dict[str, Any]) -> bool:
    """A subscription's filters: event kinds, and tiers (either side of a change) for tier
    changes; an empty filter takes all."""
    kinds = subscription.get("kinds") or []
    if kinds and alert["kind"] not in kinds:
        return False
    tiers = subscription.get("tiers") or []
    if tiers and alert["kind"] == "tier_changed":
        return bool({alert["data"].get("from"), alert["data"].get("to")} & set(tiers))
    return True  # tiers filter tier changes only
