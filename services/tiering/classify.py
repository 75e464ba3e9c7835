"""tiering's use cases: classify a firm on a new snapshot, re-evaluate the province under a
rule set, and simulate a rule set without changing anything."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from services.tiering.decisions import decide
from services.tiering.rules.engine import evaluate
from services.tiering.rules.ruleset import RuleSet
from services.tiering.storage import RuleSets, Tiers
from shared import clock

BATCH_SIZE = 500  # firms read per round trip; writes go in commands of shared.mongo.BULK_CHUNK
MOVERS_SHOWN = 200
WRITERS = 3  # batches written at once: 2 writers already double FerretDB's update rate here
Announce = Callable[[dict[str, Any]], None]


def region_of(snapshot: dict[str, Any]) -> str | None:
    return (snapshot.get("profile") or {}).get("region_code")


def on_snapshot(
    tiers: Tiers, rulesets: RuleSets, snapshot: dict[str, Any], default_id: str, announce: Announce
) -> None:
    """Classify the firm unless a newer snapshot was seen; announce any unannounced change.

    A redelivered snapshot (same version) finishes what a crash after storing it left undone:
    it re-announces a change whose announcement did not complete and mends the tier index."""
    uscc, made = snapshot["uscc"], {}
    with tiers.locks.hold(uscc):
        record = tiers.decision(uscc)
        if record is None or record["version"] < snapshot["version"]:
            ruleset = rulesets.for_region(region_of(snapshot), default_id)
            candidate, change = decide(record, ruleset, snapshot, clock.now())
            if tiers.save(candidate, change):
                record = candidate
                made = {change["seq"]: change} if change else {}
            else:
                record = tiers.decision(uscc)
        elif record["version"] == snapshot["version"]:
            tiers.index([record])
        announce_pending(tiers, record, announce, made)


def announce_pending(
    tiers: Tiers,
    record: dict[str, Any] | None,
    announce: Announce,
    made: dict[int, dict[str, Any]],
) -> None:
    """Every change of the firm not yet announced, in order: the one just `made` as it is,
    older ones (whose announcement a crash interrupted) from the history."""
    if record is None:
        return
    for seq in range(record.get("announced_seq", 0) + 1, record["seq"] + 1):
        change = made.get(seq) or tiers.change(record["uscc"], seq)
        if change is not None:
            announce(change)
            tiers.mark_announced([(record["uscc"], seq)])


def reevaluate(
    tiers: Tiers,
    rulesets: RuleSets,
    default_id: str,
    announce: Announce,
    batch_size: int = BATCH_SIZE,
) -> dict[str, Any]:
    """Every firm under the active rule sets, a batch per round trip; announces the moves.

    Batches are written by WRITERS writers while the next ones are evaluated (the database
    works while Python does, and spreads its work over cores), and each batch's moves are
    announced, in batch order, only once it is stored."""
    now, seen, moved = clock.now(), 0, 0
    held = tiers.index_copies()  # read once: the writers compare with these, not a read each
    with ThreadPoolExecutor(max_workers=WRITERS) as writers:
        stored: deque[tuple[Future[int], list[dict[str, Any]]]] = deque()
        for batch in tiers.batches(batch_size):
            pairs, changes = [], []
            for previous in batch:
                ruleset = rulesets.for_region(region_of(previous["snapshot"]), default_id)
                record, change = decide(previous, ruleset, previous["snapshot"], now)
                pairs.append((record, previous))
                if change is not None:
                    changes.append(change)
            if len(stored) == WRITERS:
                announce_stored(tiers, *stored.popleft(), announce)
            stored.append((writers.submit(tiers.save_batch, pairs, changes, held), changes))
            seen, moved = seen + len(batch), moved + len(changes)
        while stored:
            announce_stored(tiers, *stored.popleft(), announce)
    return {"firms": seen, "changed": moved}


def announce_stored(
    tiers: Tiers, stored: Future[int], changes: list[dict[str, Any]], announce: Announce
) -> None:
    stored.result()
    for change in changes:
        announce(change)
    tiers.mark_announced([(c["uscc"], c["seq"]) for c in changes])


def simulate(
    tiers: Tiers,
    rulesets: RuleSets,
    candidate: RuleSet,
    default_id: str,
    batch_size: int = BATCH_SIZE,
) -> dict[str, Any]:
    """Counts per tier before and after activating `candidate`, and who would move. Reads only."""
    before, after, movers, moved = Counter(), Counter(), [], 0
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
