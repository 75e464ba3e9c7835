"""What tiering's HTTP and RPC entrypoints answer, read from storage and the rule sets."""

from __future__ import annotations

from typing import Any

from services.tiering.classify import region_of
from services.tiering.decisions import explained, tier_view
from services.tiering.rules.engine import NONE_TIER
from services.tiering.rules.ruleset import RuleSet
from services.tiering.storage import RuleSets, Tiers
from shared.auth import Gate, Principal
from shared.http import Problem
from shared.units import PROVINCE


def firms_of(unit: str | None) -> str | None:
    """The unit to select firms by: the province (or no unit) covers them all."""
    return None if unit == PROVINCE else unit


def summary(tiers: Tiers, ruleset: RuleSet, unit: str | None) -> dict[str, Any]:
    """Firms per tier, every tier of `ruleset` listed even when empty."""
    return summary_of(ruleset, tiers.counts(firms_of(unit)), unit)


def summary_of(ruleset: RuleSet, found: dict[str, int], unit: str | None) -> dict[str, Any]:
    counts = dict.fromkeys([t.code for t in ruleset.tiers] + [NONE_TIER], 0)
    counts.update(found)
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
    """The firm's tier, explained under the rule set now active for its region (or the version
    that decided it, decisions.explained), and its history."""
    active = rulesets.for_region(region_of(record["snapshot"]), default_id)
    decided_under = lambda: rulesets.at(record["ruleset"], record.get("ruleset_version"))  # noqa: E731
    return tier_view(explained(record, active, decided_under), tiers.history_of(record))


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
