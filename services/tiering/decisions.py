"""From a snapshot and a rule set to the firm's tier record and, when the tier moves, the
`tier_changed` event. Pure functions: the service stores and dispatches what these return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.tiering.rules.engine import (
    NONE_LABEL,
    NONE_TIER,
    Decision,
    evaluate,
    facts_for,
    watch,
)
from services.tiering.rules.ruleset import RuleSet

Record = dict[str, Any]


def region_of(snapshot: dict[str, Any]) -> str | None:
    """The region code that chooses the firm's rule set."""
    return (snapshot.get("profile") or {}).get("region_code")


def decide(
    previous: Record | None, ruleset: RuleSet, snapshot: dict[str, Any], now: datetime
) -> tuple[Record, Record | None]:
    """The firm's new tier record, and the tier change (also the event body) if it moved."""
    facts = facts_for(ruleset, snapshot)
    decision = evaluate(ruleset, snapshot, facts)
    old_tier = previous["tier"] if previous else NONE_TIER
    old_label = previous["tier_label"] if previous else NONE_LABEL
    seq = previous["seq"] if previous else 0
    moved = decision.tier != old_tier
    if moved:
        seq += 1
    record = {
        "uscc": snapshot["uscc"],
        "version": snapshot["version"],
        "snapshot": snapshot,
        "unit": snapshot.get("unit"),
        "name": (snapshot.get("profile") or {}).get("name"),
        "tier": decision.tier,
        "tier_label": decision.label,
        "rank": decision.rank,
        "ruleset": ruleset.id,
        "evaluated_year": decision.evaluated_year,
        "since": now if moved or previous is None else previous["since"],
        "evaluated_at": now,
        **explanation(ruleset, decision),
        "seq": seq,
        "announced_seq": previous.get("announced_seq", 0) if previous else 0,
        "watch": watch(ruleset, snapshot, decision.rank, facts, decision),
    }
    change = tier_change(record, decision, old_tier, old_label, now) if moved else None
    record["unannounced"] = unannounced(previous, change)
    return record, change


def unannounced(previous: Record | None, change: Record | None) -> dict[str, Record]:
    """The firm's changes not announced yet, by seq (as text, the key of a stored document's
    field): the previous record's, less those announced since, and this decision's. A decision
    is stored with them, in the same write, so the change of a decision stored is never lost
    (a crash before it reached the history or the broker), and the only change of a seq ever
    added to the history or announced is the one of the decision that was stored: never the
    change of an attempt whose write lost to another process's (handlers.classify_snapshots)."""
    held: dict[str, Record] = {}
    if previous is not None:
        announced = previous.get("announced_seq", 0)
        kept = (previous.get("unannounced") or {}).items()
        held = {seq: c for seq, c in kept if int(seq) > announced}
    if change is not None:
        held[str(change["seq"])] = change
    return held


def explanation(ruleset: RuleSet, decision: Decision) -> Record:
    """What is stored of the reasons for a decision: the rule set version and a one-line
    summary. The checks themselves are computed again from the snapshot when they are read
    (`explained`), so the stored record stays small: it is rewritten with every snapshot."""
    next_up = ruleset.next_above(decision.rank)
    return {
        "ruleset_version": ruleset.version,
        "summary": decision.summary(next_up.code if next_up else None),
    }


def explained(record: Record, active: RuleSet, decided_under: Callable[[], RuleSet]) -> Record:
    """The record with every check behind its tier, computed from its snapshot: under the rule
    set now active for the firm when that decides the same tier (a re-evaluation rewrites only
    the firms whose decision moved, and leaves the others to be explained here under the new
    version), else under the rule set version that decided it (a firm the re-evaluation has not
    reached yet)."""
    decision = evaluate(active, record["snapshot"])
    ruleset = active
    if decision.tier != record["tier"]:
        ruleset = decided_under()
        decision = evaluate(ruleset, record["snapshot"])
    checks = [c.to_json() for c in decision.checks]
    return {**record, **explanation(ruleset, decision), "checks": checks}


def tier_change(
    record: Record, decision: Decision, old_tier: str, old_label: str, now: datetime
) -> Record:
    """The history entry, which is also the `tier_changed` event: the conditions that decided
    it are the new tier's (an upgrade) or those the old tier now fails (a downgrade)."""
    decisive = [
        c.to_json()
        for c in decision.checks
        if (c.tier == decision.tier and c.passed) or (c.tier == old_tier and not c.passed)
    ]
    return {
        "id": f"{record['uscc']}:{record['seq']}",
        "uscc": record["uscc"],
        "seq": record["seq"],
        "name": record["name"],
        "unit": record["unit"],
        "from": old_tier,
        "from_label": old_label,
        "to": decision.tier,
        "to_label": decision.label,
        "ruleset": decision.ruleset,
        "evaluated_year": decision.evaluated_year,
        "at": now.isoformat(),
        "explanation": record["summary"],
        "checks": decisive,
    }
