"""MongoDB storage of tiering: firms' current tiers with their latest snapshot, tier history,
and the rule sets (loaded texts and which one is active for which region).

A firm's document keeps the fields that are queried or compared at the top level and packs
the parts no query looks into, the snapshot and the watch entry (shared.mongo.pack). The
checks behind a tier are not stored: they are computed again from the snapshot when read
(decisions.explained), which keeps the document that every snapshot rewrites small (on the
local FerretDB an update of a 6 KB document costs 0.72 ms, of a 1.5 KB one 0.45 ms, measured).

A decision is stored with its firm's changes not announced yet (`unannounced`, each packed;
decisions.unannounced), and only then are they added to the history (`tier_history`, an entry
per firm and seq) and announced; announcing them removes them. So only the change of a
decision that was stored reaches the history: another process's attempt at the same seq, whose
write lost, never replaces the entry that was announced, and a crash between the writes loses
nothing (the next snapshot of the firm, or the same one redelivered, writes and announces it).

`Tiers` and `RuleSets` implement repository.py's protocols for the use cases, and the reads of
views.py and read_model.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, ReplaceOne, UpdateOne
from pymongo.collection import Collection

from services.tiering.repository import IndexCopies, RecordChange
from services.tiering.rules.ruleset import RuleSet, applicable_id, parse_ruleset
from shared.mongo import Repository, RepositoryProvider, bulk_write, find_by_ids, pack, unpack
from shared.rulesets import RuleSetTexts
from shared.versioned import Document, Versioned, stamped

BUNDLED_RULESETS = Path(__file__).resolve().parent / "rulesets"
ACTIVE_CACHE_SECONDS = 5.0
PACKED = ("snapshot", "watch")
UNANNOUNCED = "unannounced"  # the firm's changes not announced yet, by seq (as text)
LEGACY = ("_id", "explanation", "checks")  # stored by versions that kept the checks
# What a re-evaluation may change: a record equal in all of these is not written again, and its
# explanation is given under the new rule set version when it is read (decisions.explained).
DECISION_FIELDS = ("tier", "tier_label", "rank", "ruleset", "evaluated_year", "seq", "watch")
Record = dict[str, Any]


def to_document(record: Record) -> Record:
    """The stored form of a tier record (see the module docstring)."""
    document = {k: v for k, v in record.items() if k != "checks"}
    document["_id"] = record["uscc"]
    for name in PACKED:
        document[name] = pack(record[name]) if record.get(name) is not None else None
    if UNANNOUNCED in record:
        document[UNANNOUNCED] = {seq: pack(c) for seq, c in record[UNANNOUNCED].items()}
    return document


def from_document(document: Record) -> Record:
    record = {k: v for k, v in document.items() if k not in LEGACY}
    for name in PACKED:
        if isinstance(record.get(name), str):
            record[name] = unpack(record[name])
    if isinstance(record.get(UNANNOUNCED), dict):
        record[UNANNOUNCED] = {seq: unpack(c) for seq, c in record[UNANNOUNCED].items()}
    return record


def update_records(versioned: Versioned, usccs: Iterable[str], decide: RecordChange) -> set[str]:
    """`Versioned.update` of tier records: `decide` takes and gives records, not their stored
    documents."""

    def compute(uscc: str, stored: Document | None) -> Document | None:
        record = decide(uscc, None if stored is None else from_document(stored))
        return None if record is None else to_document(record)

    return versioned.update(usccs, compute)


def decision_updates(pairs: list[tuple[Record, Record]]) -> list[tuple[Record, Record]]:
    """What a re-evaluation writes, as (filter, fields to set), for each new record whose
    decision differs from the one read. The filter lands it only on the record it was decided
    from: the firm still at the snapshot version evaluated (a newer snapshot's decision wins)
    and at the seq read (another re-evaluation that stored a move from there wins, so only one
    change of a seq is ever stored). Not set: the snapshot (unchanged), and what announcing
    changes (`announced_seq`, and the changes not announced yet, to which only this decision's
    move is added)."""
    updates = []
    for new, old in pairs:
        if any(new[k] != old.get(k) for k in DECISION_FIELDS):
            document = to_document(new)
            for name in ("_id", "snapshot", "announced_seq", UNANNOUNCED):
                del document[name]
            if new["seq"] != old["seq"]:
                change = new[UNANNOUNCED][str(new["seq"])]
                document[f"{UNANNOUNCED}.{new['seq']}"] = pack(change)
            guard = {"_id": new["uscc"], "version": old["version"], "seq": old["seq"]}
            updates.append((guard, document))
    return updates


def announced_by_firm(announced: list[tuple[str, int]]) -> dict[str, list[int]]:
    """The seqs announced, per firm."""
    seqs: dict[str, list[int]] = {}
    for uscc, seq in announced:
        seqs.setdefault(uscc, []).append(seq)
    return seqs


def index_copy(record: Record) -> dict[str, Any]:
    return {"unit": record["unit"], "tier": record["tier"]}


def unit_and_tier(found: dict[str, Any] | None) -> tuple[Any, Any]:
    return (found or {}).get("unit"), (found or {}).get("tier")


def behind(records: list[Record], held: IndexCopies) -> list[Record]:
    """The records whose index copy in `held` does not say their (unit, tier)."""
    return [r for r in records if unit_and_tier(held.get(r["uscc"])) != unit_and_tier(r)]


class Tiers(Repository):
    def __init__(self, db: Any):
        super().__init__(db)
        # Firms' decisions, read and written a batch at a time (shared/versioned.py); what
        # classifying a snapshot needs leaves out the bulky snapshot and explanation.
        self.decisions = Versioned(self.firms, {"snapshot": False, "explanation": False})
        # (explanation: only in documents stored by earlier versions)

    @property
    def firms(self) -> Collection[dict[str, Any]]:
        return self.db["firms"]

    @property
    def history(self) -> Collection[dict[str, Any]]:
        return self.db["tier_history"]

    @property
    def tier_index(self) -> Collection[dict[str, Any]]:
        return self.db["tier_index"]

    def ensure_indexes(self) -> None:
        self.firms.create_index([("unit", ASCENDING), ("tier", ASCENDING)])
        self.history.create_index([("uscc", ASCENDING), ("seq", ASCENDING)])

    def get(self, uscc: str) -> Record | None:
        document = self.firms.find_one({"_id": uscc})
        return None if document is None else from_document(document)

    def update_decisions(self, usccs: Iterable[str], decide: RecordChange) -> set[str]:
        return update_records(self.decisions, usccs, decide)

    def history_of(self, record: Record) -> list[Record]:
        """The firm's tier changes, 1 to its current `seq`: those the record holds (not
        announced yet) from it, the others each looked up by `_id` (FerretDB would read the
        whole history for a query on `uscc`)."""
        held = record.get(UNANNOUNCED) or {}
        changes = (
            held.get(str(seq)) or self.change(record["uscc"], seq)
            for seq in range(1, record["seq"] + 1)
        )
        return [change for change in changes if change is not None]

    def change(self, uscc: str, seq: int) -> Record | None:
        stored = self.history.find_one({"_id": f"{uscc}:{seq}"}, {"_id": False})
        return None if stored is None else {**stored, "checks": unpack(stored["checks"])}

    def update_tier_index(
        self, records: list[Record], held: IndexCopies | None = None, verify: bool = False
    ) -> None:
        """A small copy of (unit, tier) per firm, so counting never reads the big records;
        written only where it differs from the copy. Compared with the copy itself, not with
        the firm's previous record: a process that died, or a database that went away, between
        a firm's write and this one left the copy behind its record. `held` is the copies read
        beforehand (`index_copies`), else each is read by _id; it is kept up to date. With
        `verify`, a copy is written only for a record still stored at its version: a
        re-evaluation must not set back the copy of a firm whose newer snapshot came meanwhile
        (that snapshot's handler indexes it)."""
        if held is None:
            held = self.index_copies_of([r["uscc"] for r in records])
        moved = behind(records, held)
        if verify and moved:
            moved = self.still_stored(moved)
        bulk_write(
            self.tier_index,
            [ReplaceOne({"_id": r["uscc"]}, index_copy(r), upsert=True) for r in moved],
        )
        held.update({r["uscc"]: index_copy(r) for r in moved})

    def still_stored(self, records: list[Record]) -> list[Record]:
        """Those of `records` whose firm is stored at the same version."""
        found = find_by_ids(self.firms, [r["uscc"] for r in records], fields={"version": True})
        versions = {d["_id"]: d["version"] for d in found}
        return [r for r in records if versions.get(r["uscc"]) == r["version"]]

    def index_copies_of(self, usccs: list[str]) -> IndexCopies:
        """These firms' (unit, tier) copies, one query."""
        return {copy.pop("_id"): copy for copy in find_by_ids(self.tier_index, usccs)}

    def index_copies(self) -> IndexCopies:
        """Every firm's (unit, tier) copy, read once, for a pass over the whole province."""
        return {copy.pop("_id"): copy for copy in self.tier_index.find({})}

    def add_changes(self, changes: list[Record]) -> None:
        """Each change (of a decision stored) as the entry of its seq, replacing one already
        there: the same change, written again after a crash, or one an earlier version of this
        service recorded before storing a decision, which it then did not store."""
        bulk_write(
            self.history,
            [
                ReplaceOne(
                    {"_id": f"{c['uscc']}:{c['seq']}"},
                    {**c, "checks": pack(c["checks"])},
                    upsert=True,
                )
                for c in changes
            ],
        )

    def mark_announced(self, announced: list[tuple[str, int]]) -> None:
        """A write per firm: its latest seq announced, and those changes no longer held. A firm
        whose announced_seq is already as high is left alone: whoever raised it announced
        (and removed) every change up to it."""
        bulk_write(
            self.firms,
            [
                UpdateOne(
                    {"_id": uscc, "announced_seq": {"$lt": max(seqs)}},
                    {
                        "$set": stamped({"announced_seq": max(seqs)}),
                        "$unset": {f"{UNANNOUNCED}.{seq}": "" for seq in seqs},
                    },
                )
                for uscc, seqs in announced_by_firm(announced).items()
            ],
        )

    def batches(self, size: int) -> Iterator[list[Record]]:
        """Every firm, `size` at a time, from one cursor (a round trip per batch, not per
        firm)."""
        batch: list[Record] = []
        for document in self.firms.find({}, {"explanation": False}).batch_size(size):
            batch.append(from_document(document))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def save_batch(
        self, pairs: list[tuple[Record, Record]], changes: list[Record], held: IndexCopies
    ) -> list[Record]:
        """Re-evaluated records, each only on the record it was decided from (decision_updates)
        and only those whose decision moved, each with its change; then the changes stored are
        added to the history, and returned. A firm whose newer snapshot was stored meanwhile
        keeps that snapshot's decision. Which changes were stored is read back only when some
        write missed."""
        updates = [
            UpdateOne(guard, {"$set": stamped(document)})
            for guard, document in decision_updates(pairs)
        ]
        matched = bulk_write(self.firms, updates)
        stored = changes if matched == len(updates) else self.held_unannounced(changes)
        self.add_changes(stored)
        self.update_tier_index([new for new, _ in pairs], held, verify=True)
        return stored

    def held_unannounced(self, changes: list[Record]) -> list[Record]:
        """Those of `changes` that their firm's stored record holds, not announced yet."""
        if not changes:
            return []
        usccs = [c["uscc"] for c in changes]
        found = find_by_ids(self.firms, usccs, fields={UNANNOUNCED: True})
        held = {d["_id"]: d.get(UNANNOUNCED) or {} for d in found}
        return [c for c in changes if held.get(c["uscc"], {}).get(str(c["seq"])) == pack(c)]

    def counts(self, unit: str | None) -> dict[str, int]:
        match = {"unit": unit} if unit else {}
        rows = self.tier_index.aggregate(
            [{"$match": match}, {"$group": {"_id": "$tier", "n": {"$sum": 1}}}]
        )
        return {row["_id"]: row["n"] for row in rows}

    def counts_by_unit_and_tier(self) -> list[tuple[tuple[str | None, str], int]]:
        """Firms per (unit, tier), from the index copies."""
        rows = self.tier_index.aggregate(
            [{"$group": {"_id": {"unit": "$unit", "tier": "$tier"}, "n": {"$sum": 1}}}]
        )
        return [((r["_id"]["unit"], r["_id"]["tier"]), r["n"]) for r in rows]

    def transitions(self) -> dict[str, int]:
        rows = self.history.aggregate(
            [{"$group": {"_id": {"from": "$from", "to": "$to"}, "n": {"$sum": 1}}}]
        )
        return {f"{row['_id']['from']}→{row['_id']['to']}": row["n"] for row in rows}

    def watchlist(self, unit: str | None, after: str | None, limit: int) -> list[Record]:
        query: dict[str, Any] = {"watch": {"$ne": None}}
        if unit:
            query["unit"] = unit
        if after:
            query["uscc"] = {"$gt": after}
        shown = ("uscc", "name", "unit", "tier", "tier_label", "watch")
        found = self.firms.find(query, {"_id": False, **dict.fromkeys(shown, True)})
        return [from_document(d) for d in found.sort("uscc", ASCENDING).limit(limit)]

    def every_firm(self, shown: tuple[str, ...]) -> Iterator[Record]:
        """Every firm's record, only the `shown` fields, in one pass."""
        for document in self.firms.find({}, dict.fromkeys(shown, True)).batch_size(1000):
            yield from_document(document)

    def every_change(self) -> Iterator[Record]:
        """Every tier change in the history, without its checks, in one pass."""
        yield from self.history.find({}, {"_id": False, "checks": False}).batch_size(1000)


class RuleSets(RuleSetTexts[RuleSet]):
    """Tier rule sets (shared/rulesets.py: every version loaded kept, so a decision can be
    explained under the version that made it) and the active one per region prefix, cached
    briefly in memory."""

    def __init__(self, db: Any):
        super().__init__(db, parse_ruleset, BUNDLED_RULESETS)
        self._active: tuple[float, dict[str, str]] = (0.0, {})

    def install_defaults(self, default_id: str) -> None:
        """Load the repository's rule sets when absent; activate the default if none is. (Not
        an override of `install_bundled`, which `get` falls back on.)"""
        self.install_missing()
        if not self.active_map(fresh=True):
            self.set_active(self.get(default_id))

    def active_map(self, fresh: bool = False) -> dict[str, str]:
        loaded_at, active = self._active
        if fresh or time.monotonic() - loaded_at > ACTIVE_CACHE_SECONDS:
            document = self.settings.find_one({"_id": "active_rulesets"}) or {}
            active = document.get("by_region", {})
            self._active = (time.monotonic(), active)
        return active

    def set_active(self, ruleset: RuleSet) -> None:
        active = {**self.active_map(fresh=True), **{r: ruleset.id for r in ruleset.regions}}
        self.settings.update_one(
            {"_id": "active_rulesets"}, {"$set": {"by_region": active}}, upsert=True
        )
        self._active = (time.monotonic(), active)

    def for_region(
        self, region_code: str | None, default_id: str, candidate: RuleSet | None = None
    ) -> RuleSet:
        """The active rule set with the longest region prefix matching the firm's code (as if
        `candidate` were active too, for simulations)."""
        chosen = applicable_id(region_code, self.active_map(), default_id, candidate)
        return candidate if candidate is not None and chosen == candidate.id else self.get(chosen)


class TierStore(RepositoryProvider[Tiers]):
    repository_class = Tiers


class RuleSetStore(RepositoryProvider[RuleSets]):
    repository_class = RuleSets

    def start(self) -> None:
        super().start()
        self.repository.install_defaults(
            self.container.config.get("TIERING_DEFAULT_RULESET", "jl-2025")
        )
