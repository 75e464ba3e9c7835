"""What tiering's HTTP and RPC entrypoints answer, read from storage and the rule sets."""

from __future__ import annotations

from typing import Any

from services.tiering.classify import region_of
from services.tiering.decisions import explained, tier_view
from services.tiering.rules.engine import NONE_TIER
from services.tiering.rules.ruleset import RuleSet
from services.tiering.storage import RuleSets, Tiers
from shared.http import Problem
from shared.units import PROVINCE


def tier(tiers: Tiers, rulesets: RuleSets, uscc: str, default_id: str) -> dict[str, Any]:
    """The firm's tier, explained under the rule set now active for its region, and history."""
    record = tiers.get(uscc)
    if record is None:
        raise Problem(404, "Not Found", f"no tier for {uscc}: no snapshot of it yet")
    active = rulesets.for_region(region_of(record["snapshot"]), default_id)
    decided_under = lambda: rulesets.at(record["ruleset"], record.get("ruleset_version"))  # noqa: E731
    return tier_view(explained(record, active, decided_under), tiers.history_of(record))


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
