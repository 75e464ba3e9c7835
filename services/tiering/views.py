"""What tiering's HTTP and RPC entrypoints answer, read from storage and the rule sets: a
firm's tier explained, counts, changes, the watch list, the rule sets, and what activating one
would do (simulate). Nothing here writes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from services.tiering.decisions import explained, region_of
from services.tiering.repository import Record, RuleSetRepository, TierRepository
from services.tiering.rules.engine import NONE_TIER, evaluate
from services.tiering.rules.ruleset import RuleSet
from services.tiering.storage import RuleSets, Tiers
from shared import scope
from shared.auth import Gate, Principal
from shared.domain.units import PROVINCE
from shared.http import Problem
from shared.pagination import after_cursor, keyset_page

MAX_USCCS = 500
SIMULATION_BATCH = 500  # firms read per round trip
MOVERS_SHOWN = 200


def firms_of(unit: str | None) -> str | None:
    """The unit to select firms by: the province (or no unit) covers them all."""
    return None if unit == PROVINCE else unit


def summary(
    tiers: Tiers, rulesets: RuleSets, default_id: str, principal: Principal, query: dict[str, Any]
) -> dict[str, Any]:
    """`GET /v1/tiers/summary`: firms per tier within the key's reach, every tier of the default
    rule set listed even when empty."""
    unit = scope.unit_filter(principal, query.get("unit"))
    return summary_of(rulesets.get(default_id), tiers.counts(firms_of(unit)), unit)


def summary_of(ruleset: RuleSet, found: dict[str, int], unit: str | None) -> dict[str, Any]:
    counts = dict.fromkeys([t.code for t in ruleset.tiers] + [NONE_TIER], 0)
    counts.update(found)
    return {"unit": unit, "counts": counts, "total": sum(counts.values())}


def changes(tiers: Tiers) -> dict[str, Any]:
    transitions = tiers.transitions()
    return {"total": sum(transitions.values()), "by_transition": transitions}


def watchlist(tiers: Tiers, principal: Principal, query: dict[str, Any]) -> dict[str, Any]:
    """`GET /v1/watchlist`: a page of the firms close to their next tier, within the key's
    reach, in USCC order."""
    unit = firms_of(scope.unit_filter(principal, query.get("unit")))
    items = tiers.watchlist(unit, after_cursor(query), query["limit"])
    return keyset_page(items, query["limit"])


def loaded(ruleset: RuleSet) -> dict[str, Any]:
    """What `load_ruleset` reports of the rule set it stored."""
    return {
        "id": ruleset.id,
        "version": ruleset.version,
        "regions": list(ruleset.regions),
        "tiers": [t.code for t in ruleset.tiers],
    }


def rulesets_listing(rulesets: RuleSets) -> dict[str, Any]:
    """Every rule set loaded, and which is active for which region prefix."""
    return {"loaded": rulesets.listing(), "active": rulesets.active_map(fresh=True)}


def tier_view(record: Record, history: list[Record]) -> dict[str, Any]:
    """`GET /v1/enterprises/{uscc}/tier`, exactly as the contract lists it."""
    since = record["since"]
    return {
        "uscc": record["uscc"],
        "tier": record["tier"],
        "tier_label": record["tier_label"],
        "ruleset": record["ruleset"],
        "evaluated_year": record["evaluated_year"],
        "since": since.isoformat() if isinstance(since, datetime) else since,
        "checks": record["checks"],
        "history": [
            {key: entry[key] for key in ("seq", "from", "to", "ruleset", "evaluated_year", "at")}
            for entry in history
        ],
    }


def tier_of_record(
    tiers: Tiers, rulesets: RuleSets, record: Record, default_id: str
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
    """Tier and unit of each of up to MAX_USCCS firms, from the index copies, one query."""
    return tiers.index_copies_of(usccs[:MAX_USCCS])


def simulate(
    tiers: TierRepository,
    rulesets: RuleSetRepository,
    candidate: RuleSet,
    default_id: str,
    batch_size: int = SIMULATION_BATCH,
) -> dict[str, Any]:
    """Counts per tier before and after activating `candidate`, and who would move. Reads only."""
    before, after, moved = Counter[str](), Counter[str](), 0
    movers: list[dict[str, Any]] = []
    for batch in tiers.batches(batch_size):
        for record in batch:
            region = region_of(record["snapshot"])
            ruleset = rulesets.for_region(region, default_id, candidate)
            decision = evaluate(ruleset, record["snapshot"])
            before[record["tier"]] += 1
            after[decision.tier] += 1
            if decision.tier != record["tier"]:
                moved += 1
                if len(movers) < MOVERS_SHOWN:
                    movers.append(
                        {
                            "uscc": record["uscc"],
                            "name": record.get("name"),
                            "unit": record.get("unit"),
                            "from": record["tier"],
                            "to": decision.tier,
                        }
                    )
    return {
        "ruleset": candidate.id,
        "before": dict(before),
        "after": dict(after),
        "moved": moved,
        "movers": movers,
    }
