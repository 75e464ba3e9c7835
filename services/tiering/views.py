"""What tiering's HTTP and RPC entrypoints answer, read from storage and the rule sets."""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.tiering.classify import region_of
from services.tiering.decisions import explained, tier_view
from services.tiering.rules.engine import NONE_TIER
from services.tiering.rules.ruleset import RuleSet
from services.tiering.storage import RuleSets, Tiers
from shared.auth import Gate, Principal
from shared.cache import TtlCache
from shared.http import Problem
from shared.mongo import unpack
from shared.units import PROVINCE

YEARLY_SECONDS = 60.0
YEARLY = TtlCache(max_entries=100)


def firms_of(unit: str | None) -> str | None:
    """The unit to select firms by: the province (or no unit) covers them all."""
    return None if unit == PROVINCE else unit


def summary(tiers: Tiers, ruleset: RuleSet, unit: str | None) -> dict[str, Any]:
    """Firms per tier, every tier of `ruleset` listed even when empty."""
    counts = dict.fromkeys([t.code for t in ruleset.tiers] + [NONE_TIER], 0)
    counts.update(tiers.counts(firms_of(unit)))
    return {"unit": unit, "counts": counts, "total": sum(counts.values())}


def changes(tiers: Tiers) -> dict[str, Any]:
    transitions = tiers.transitions()
    return {"total": sum(transitions.values()), "by_transition": transitions}


def loaded(ruleset: RuleSet) -> dict[str, Any]:
    """What `load_ruleset` reports of the rule set it stored."""
    return {
        "id": ruleset.id,
        "version": ruleset.version,
        "regions": list(ruleset.regions),
        "tiers": [t.code for t in ruleset.tiers],
    }


def tier_of_record(
    tiers: Tiers, rulesets: RuleSets, record: dict[str, Any], default_id: str
) -> dict[str, Any]:
    ruleset = rulesets.for_region(region_of(record["snapshot"]), default_id)
    return tier_view(explained(record, ruleset), tiers.history_of(record))


def scoped_tier(
    tiers: Tiers, rulesets: RuleSets, gate: Gate, principal: Principal, uscc: str, default_id: str
) -> dict[str, Any]:
    """`GET /v1/enterprises/{uscc}/tier` for a key: 404 unknown, 403 outside its reach."""
    record = tiers.get(uscc)
    if record is None:
        raise Problem(404, "Not Found", f"no tier for {uscc}: no snapshot of it yet")
    gate.firm(principal, record["unit"], uscc)
    return tier_of_record(tiers, rulesets, record, default_id)


def tier_or_none(
    tiers: Tiers, rulesets: RuleSets, uscc: str, default_id: str
) -> dict[str, Any] | None:
    """The portal's firm page: the tier view with the summary of what the next tier misses."""
    record = tiers.get(uscc)
    if record is None:
        return None
    view = tier_of_record(tiers, rulesets, record, default_id)
    return {**view, "unit": record["unit"], "watch": record.get("watch")}


def tiers_of(tiers: Tiers, usccs: list[str]) -> dict[str, dict[str, Any]]:
    """Tier code and label of each of up to 500 firms, by `_id`."""
    found = tiers.tier_index.find({"_id": {"$in": usccs[:500]}})
    return {row["_id"]: {"tier": row["tier"], "unit": row["unit"]} for row in found}


def tier_firms(
    tiers: Tiers, unit: str | None, tier: str, after: str | None, limit: int
) -> list[str]:
    """USCCs of a unit's firms in one tier, in USCC order after `after` (keyset)."""
    query: dict[str, Any] = {"tier": tier}
    if firms_of(unit):
        query["unit"] = unit
    if after:
        query["_id"] = {"$gt": after}
    rows = tiers.tier_index.find(query, {"_id": True}).sort("_id", 1).limit(min(limit, 500))
    return [row["_id"] for row in rows]


def change_entry(stored: dict[str, Any]) -> dict[str, Any]:
    entry = {k: v for k, v in stored.items() if k != "_id"}
    entry["checks"] = unpack(stored["checks"]) if isinstance(stored["checks"], str) else []
    return entry


def changes_page(
    tiers: Tiers, unit: str | None, after: tuple[str, str] | None, limit: int
) -> list[dict[str, Any]]:
    """A unit's tier changes, newest first, with their deciding conditions; keyset on
    (`at`, id) of the last one shown."""
    query: dict[str, Any] = {"unit": unit} if firms_of(unit) else {}
    if after:
        at, change_id = after
        query["$or"] = [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": change_id}}]
    rows = tiers.history.find(query).sort([("at", -1), ("_id", -1)]).limit(min(limit, 500))
    return [change_entry(row) for row in rows]


def tiers_by_year(tiers: Tiers, unit: str | None, years: list[int]) -> dict[str, dict[str, int]]:
    """Firms per tier at the end of each year, from the tier history (each firm's last change
    made by then). A firm with no change by then is not counted: it was not known or had no
    tier yet. Cached for YEARLY_SECONDS per unit: it reads the unit's whole history."""
    cache_key = (id(tiers), unit, tuple(years))
    known, counts = YEARLY.get(cache_key)
    if known:
        return counts
    query: dict[str, Any] = {"unit": unit} if firms_of(unit) else {}
    fields = {"uscc": True, "seq": True, "to": True, "at": True}
    last: dict[int, dict[str, tuple[int, str]]] = {year: {} for year in years}
    for row in tiers.history.find(query, fields):
        for year in years:
            if row["at"][:4] <= str(year):
                held = last[year].get(row["uscc"])
                if held is None or held[0] < row["seq"]:
                    last[year][row["uscc"]] = (row["seq"], row["to"])
    counts = {str(year): dict(Counter(to for _, to in last[year].values())) for year in years}
    YEARLY.put(cache_key, counts, YEARLY_SECONDS)
    return counts
