"""tiering's storage in memory (a TierRepository and a RuleSetRepository), for unit tests of its
use cases: tier records stored as storage.Tiers stores them, in an InMemoryVersioned, with the
history and the index copies beside them."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator

from services.tiering.repository import IndexCopies, Record, RecordChange
from services.tiering.rules.ruleset import RuleSet, applicable_id
from services.tiering.storage import (
    UNANNOUNCED,
    announced_by_firm,
    behind,
    decision_updates,
    from_document,
    index_copy,
    update_records,
)
from tests.support.fakes.versioned import InMemoryVersioned


class InMemoryTiers:
    def __init__(self) -> None:
        self.firms = InMemoryVersioned({"snapshot": False, "explanation": False})
        self.history: dict[tuple[str, int], Record] = {}
        self.tier_index: IndexCopies = {}

    def another_process(self) -> InMemoryTiers:
        """The same data as another process (another replica) sees it."""
        twin = InMemoryTiers()
        twin.firms = self.firms.another_process()
        twin.history, twin.tier_index = self.history, self.tier_index
        return twin

    def stored(self, uscc: str) -> Record:
        """A copy of the firm's stored document (its write token included), to check what was
        written."""
        return copy.deepcopy(self.firms.documents[uscc])

    def update_decisions(self, usccs: Iterable[str], decide: RecordChange) -> set[str]:
        return update_records(self.firms, usccs, decide)

    def add_changes(self, changes: list[Record]) -> None:
        self.history.update({(c["uscc"], c["seq"]): copy.deepcopy(c) for c in changes})

    def change(self, uscc: str, seq: int) -> Record | None:
        return copy.deepcopy(self.history.get((uscc, seq)))

    def mark_announced(self, announced: list[tuple[str, int]]) -> None:
        for uscc, seqs in announced_by_firm(announced).items():
            unset = [f"{UNANNOUNCED}.{seq}" for seq in seqs]
            self.firms.set_where(
                uscc, announced_before(max(seqs)), {"announced_seq": max(seqs)}, unset
            )

    def update_tier_index(
        self, records: list[Record], held: IndexCopies | None = None, verify: bool = False
    ) -> None:
        if held is None:
            held = self.index_copies_of([r["uscc"] for r in records])
        moved = behind(records, held)
        if verify:
            moved = [r for r in moved if self.stored_version(r["uscc"]) == r["version"]]
        copies = {r["uscc"]: index_copy(r) for r in moved}
        self.tier_index.update(copy.deepcopy(copies))
        held.update(copies)

    def stored_version(self, uscc: str) -> int | None:
        return self.firms.documents.get(uscc, {}).get("version")

    def index_copies_of(self, usccs: list[str]) -> IndexCopies:
        return {u: copy.deepcopy(self.tier_index[u]) for u in usccs if u in self.tier_index}

    def index_copies(self) -> IndexCopies:
        return copy.deepcopy(self.tier_index)

    def batches(self, size: int) -> Iterator[list[Record]]:
        records = [from_document(copy.deepcopy(d)) for d in self.firms.documents.values()]
        for start in range(0, len(records), size):
            yield records[start : start + size]

    def save_batch(
        self, pairs: list[tuple[Record, Record]], changes: list[Record], held: IndexCopies
    ) -> list[Record]:
        written = {
            guard["_id"]
            for guard, document in decision_updates(pairs)
            if self.firms.set_where(guard["_id"], matching(guard), document)
        }
        stored = [c for c in changes if c["uscc"] in written]
        self.add_changes(stored)
        self.update_tier_index([new for new, _ in pairs], held, verify=True)
        return stored


def announced_before(seq: int) -> Callable[[Record], bool]:
    return lambda firm: "announced_seq" in firm and firm["announced_seq"] < seq


def matching(query: Record) -> Callable[[Record], bool]:
    """An update's filter of equalities, as a test of a stored document."""
    return lambda firm: all(firm.get(name) == value for name, value in query.items())


class InMemoryRuleSets:
    """Rule sets loaded and active by region; `rulesets` are loaded and activated in order."""

    def __init__(self, *rulesets: RuleSet) -> None:
        self.loaded: dict[str, RuleSet] = {}
        self.active: dict[str, str] = {}
        for ruleset in rulesets:
            self.store(ruleset)
            self.set_active(ruleset)

    def store(self, ruleset: RuleSet) -> None:
        held = self.loaded.get(ruleset.id)
        if held is not None and held.version > ruleset.version:
            raise ValueError(f"{ruleset.id} version {held.version} is loaded")
        self.loaded[ruleset.id] = ruleset

    def get(self, ruleset_id: str, fresh: bool = False) -> RuleSet:
        return self.loaded[ruleset_id]

    def set_active(self, ruleset: RuleSet) -> None:
        self.active.update(dict.fromkeys(ruleset.regions, ruleset.id))

    def for_region(
        self, region_code: str | None, default_id: str, candidate: RuleSet | None = None
    ) -> RuleSet:
        chosen = applicable_id(region_code, self.active, default_id, candidate)
        return candidate if candidate is not None and chosen == candidate.id else self.get(chosen)
