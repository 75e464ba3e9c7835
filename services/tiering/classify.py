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
from services.tiering.storage import RuleSets, Tiers, to_document
from shared import clock
from shared.batches import Batch

BATCH_SIZE = 500  # firms read per round trip; writes go in commands of shared.mongo.BULK_CHUNK
MOVERS_SHOWN = 200
WRITERS = 3  # batches written at once: 2 writers already double FerretDB's update rate here
Announce = Callable[[list[dict[str, Any]]], None]
Record = dict[str, Any]


class ChangedMeanwhile(RuntimeError):
    """Another writer kept changing the firm's decision while this batch classified it."""


def region_of(snapshot: dict[str, Any]) -> str | None:
    return (snapshot.get("profile") or {}).get("region_code")


def on_snapshots(
    tiers: Tiers,
    rulesets: RuleSets,
    batch: Batch[dict[str, Any]],
    default_id: str,
    announce: Announce,
) -> None:
    """Classify each firm on its newest snapshot in the batch, unless a newer one was seen;
    store the decisions (their tier changes first), mend the tier index, and announce every
    change not announced yet, in order.

    A redelivered snapshot (the version stored) finishes what a crash after storing it left
    undone: it mends the firm's index copy and announces a change whose announcement did not
    complete. An older one changes nothing."""
    newest: dict[str, dict[str, Any]] = {}
    for snapshot in batch:
        held = newest.get(snapshot["uscc"])
        if held is None or snapshot["version"] > held["version"]:
            newest[snapshot["uscc"]] = snapshot
    now = clock.now()
    current: dict[str, Record] = {}  # each firm's decision now stored, when this batch's own
    made: dict[str, Record] = {}  # the change each new decision makes

    def classify(uscc: str, stored: Record | None) -> Record | None:
        snapshot = newest[uscc]
        made.pop(uscc, None)  # decided again from what is stored now, after a lost write
        if stored is not None and stored["version"] >= snapshot["version"]:
            if stored["version"] == snapshot["version"]:
                current[uscc] = stored
            else:
                current.pop(uscc, None)
            return None
        ruleset = rulesets.for_region(region_of(snapshot), default_id)
        record, change = decide(stored, ruleset, snapshot, now)
        current[uscc] = record
        if change is not None:
            made[uscc] = change
        return to_document(record)

    def changes_first(documents: list[Record]) -> None:
        tiers.add_changes([made[d["_id"]] for d in documents if d["_id"] in made])

    for uscc in tiers.decisions.update(newest, classify, changes_first):
        current.pop(uscc, None)
        for snapshot in batch:
            if snapshot["uscc"] == uscc:
                batch.fail(snapshot, ChangedMeanwhile(f"{uscc} kept changing"))
    tiers.index(list(current.values()))
    announce_pending(tiers, list(current.values()), announce, made)


def announce_pending(
    tiers: Tiers, records: list[Record], announce: Announce, made: dict[str, Record]
) -> None:
    """Every change of these firms not yet announced, in order: the ones just `made` as they
    are, older ones (whose announcement a crash interrupted) from the history."""
    pending = []
    for record in records:
        for seq in range(record.get("announced_seq", 0) + 1, record["seq"] + 1):
            change = made.get(record["uscc"])
            if change is None or change["seq"] != seq:
                change = tiers.change(record["uscc"], seq)
            if change is not None:
                pending.append(change)
    if pending:
        announce(pending)
        tiers.mark_announced([(c["uscc"], c["seq"]) for c in pending])


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
    if changes:
        announce(changes)
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
