"""tiering's use cases: classify firms on their new snapshots, load a rule set, and activate one
(re-evaluating the province under it)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from services.tiering.decisions import decide, region_of
from services.tiering.repository import Record, RuleSetRepository, TierRepository
from services.tiering.rules.ruleset import RuleSet, parse_ruleset
from shared.batches import Batch
from shared.domain import clock

BATCH_SIZE = 500  # firms read per round trip; writes go in commands of shared.mongo.BULK_CHUNK
WRITERS = 3  # batches written at once: 2 writers already double FerretDB's update rate here
Announce = Callable[[list[Record]], None]


class ChangedMeanwhile(RuntimeError):
    """Another writer kept changing the firm's decision while this batch classified it."""


def classify_snapshots(
    tiers: TierRepository,
    rulesets: RuleSetRepository,
    batch: Batch[dict[str, Any]],
    default_id: str,
    announce: Announce,
) -> None:
    """Classify each firm on its newest snapshot in the batch, unless a newer one was seen;
    store the decisions (each with its firm's tier changes not announced yet), mend the tier
    index, add those changes to the history and announce them, in order.

    A change reaches the history only from a decision stored: an attempt whose write lost to
    another process (another replica) is decided again on what that one stored, and the change
    it had decided is dropped, never recorded over the one the other process announced.

    A redelivered snapshot (the version stored) finishes what a crash after storing it left
    undone: it mends the firm's index copy, and records and announces a change whose
    announcement did not complete. An older one changes nothing."""
    newest: dict[str, dict[str, Any]] = {}
    for snapshot in batch:
        held = newest.get(snapshot["uscc"])
        if held is None or snapshot["version"] > held["version"]:
            newest[snapshot["uscc"]] = snapshot
    now = clock.now()
    current: dict[str, Record] = {}  # each firm's decision now stored, when this batch's own

    def classify(uscc: str, stored: Record | None) -> Record | None:
        snapshot = newest[uscc]
        if stored is not None and stored["version"] >= snapshot["version"]:
            if stored["version"] == snapshot["version"]:
                current[uscc] = stored
            else:
                current.pop(uscc, None)
            return None
        ruleset = rulesets.for_region(region_of(snapshot), default_id)
        record, _ = decide(stored, ruleset, snapshot, now)
        current[uscc] = record
        return record

    for uscc in tiers.update_decisions(newest, classify):
        current.pop(uscc, None)
        for snapshot in batch:
            if snapshot["uscc"] == uscc:
                batch.fail(snapshot, ChangedMeanwhile(f"{uscc} kept changing"))
    tiers.update_tier_index(list(current.values()))
    announce_pending(tiers, list(current.values()), announce)


def announce_pending(tiers: TierRepository, records: list[Record], announce: Announce) -> None:
    """Every change of these stored decisions not announced yet, in order, added to the history
    (again, if a crash came after it was) and announced: those the records hold, and older
    ones from the history (a record stored by an earlier version of this service, which
    recorded a change in the history before storing its decision, holds none)."""
    pending, held = [], []
    for record in records:
        unannounced = record.get("unannounced") or {}
        for seq in range(record.get("announced_seq", 0) + 1, record["seq"] + 1):
            change = unannounced.get(str(seq))
            if change is not None:
                held.append(change)
            else:
                change = tiers.change(record["uscc"], seq)
            if change is not None:
                pending.append(change)
    if held:
        tiers.add_changes(held)
    if pending:
        announce(pending)
        tiers.mark_announced([(c["uscc"], c["seq"]) for c in pending])


def load_ruleset(rulesets: RuleSetRepository, text: str) -> RuleSet:
    """Parse and store a rule set, without activating it."""
    ruleset = parse_ruleset(text)
    rulesets.store(ruleset)
    return ruleset


def activate_ruleset(
    tiers: TierRepository,
    rulesets: RuleSetRepository,
    ruleset_id: str,
    default_id: str,
    announce: Announce,
) -> dict[str, Any]:
    """Make the rule set's newest version active for its regions, and re-evaluate every firm."""
    rulesets.set_active(rulesets.get(ruleset_id, fresh=True))
    return {"ruleset": ruleset_id, **reevaluate(tiers, rulesets, default_id, announce)}


def reevaluate(
    tiers: TierRepository,
    rulesets: RuleSetRepository,
    default_id: str,
    announce: Announce,
    batch_size: int = BATCH_SIZE,
) -> dict[str, Any]:
    """Every firm under the active rule sets, a batch per round trip; announces the moves.

    Batches are written by WRITERS writers while the next ones are evaluated (the database
    works while Python does, and spreads its work over cores), and each batch's moves are
    announced, in batch order, only once it is stored. Only records whose decision moved are
    rewritten, and none whose firm got a newer snapshot meanwhile, or a move stored by another
    re-evaluation (storage.decision_updates): that firm's move here is neither stored, nor
    recorded, nor announced."""
    now, seen, moved = clock.now(), 0, 0
    held = tiers.index_copies()  # read once: the writers compare with these, not a read each
    with ThreadPoolExecutor(max_workers=WRITERS) as writers:
        stored: deque[Future[list[Record]]] = deque()
        for batch in tiers.batches(batch_size):
            pairs, changes = [], []
            for previous in batch:
                ruleset = rulesets.for_region(region_of(previous["snapshot"]), default_id)
                record, change = decide(previous, ruleset, previous["snapshot"], now)
                pairs.append((record, previous))
                if change is not None:
                    changes.append(change)
            if len(stored) == WRITERS:
                moved += announce_stored(tiers, stored.popleft(), announce)
            stored.append(writers.submit(tiers.save_batch, pairs, changes, held))
            seen += len(batch)
        while stored:
            moved += announce_stored(tiers, stored.popleft(), announce)
    return {"firms": seen, "changed": moved}


def announce_stored(tiers: TierRepository, stored: Future[list[Record]], announce: Announce) -> int:
    """Once a batch is stored, announce the moves it wrote; how many."""
    changes = stored.result()
    if changes:
        announce(changes)
        tiers.mark_announced([(c["uscc"], c["seq"]) for c in changes])
    return len(changes)
