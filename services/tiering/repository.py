"""What tiering's use cases (handlers.py) need of storage: firms' tier records, their history
of tier changes, the small (unit, tier) index that counting reads, and the rule sets.
`storage.Tiers` and `storage.RuleSets` keep them in MongoDB; tests/support/fakes/tiering.py
keeps them in memory for the use cases' unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from services.tiering.rules.ruleset import RuleSet

Record = dict[str, Any]
# A firm's new record from its stored one (None: not stored yet); None when nothing is to be
# written.
RecordChange = Callable[[str, Record | None], Record | None]
IndexCopies = dict[str, dict[str, Any]]  # (unit, tier) by USCC


class TierRepository(Protocol):
    def update_decisions(self, usccs: Iterable[str], decide: RecordChange) -> set[str]:
        """Read these firms' records together (without their snapshots), `decide` each, write
        them together, each with the changes it holds (not announced yet). A write lands only
        on the record it was computed from (shared/versioned.py): a firm written meanwhile is
        read and decided again. Returns the firms whose writes kept losing."""
        ...

    def add_changes(self, changes: list[Record]) -> None:
        """Each change, of a decision stored, as the history entry of its firm and seq,
        replacing one already there."""
        ...

    def change(self, uscc: str, seq: int) -> Record | None:
        """The history entry of the firm's `seq`-th tier change."""
        ...

    def mark_announced(self, announced: list[tuple[str, int]]) -> None:
        """Record, per firm, the seq of the latest change announced (never lowering it), and
        no longer hold those changes with its decision."""
        ...

    def update_tier_index(
        self, records: list[Record], held: IndexCopies | None = None, verify: bool = False
    ) -> None:
        """Make these firms' index copies say their records' (unit, tier), writing only those
        that differ from `held` (the copies read before, else read now; kept up to date). With
        `verify`, only for records still stored at their version."""
        ...

    def index_copies(self) -> IndexCopies:
        """Every firm's index copy."""
        ...

    def batches(self, size: int) -> Iterator[list[Record]]:
        """Every firm's record, with its snapshot, `size` at a time."""
        ...

    def save_batch(
        self, pairs: list[tuple[Record, Record]], changes: list[Record], held: IndexCopies
    ) -> list[Record]:
        """Re-evaluated records (new, as read): each record whose decision moved written, with
        its change, if its firm is still stored at the version and seq evaluated; the changes
        of the records written added to the history, and the index copies updated (for records
        still stored at their version). Returns the changes whose records were written."""
        ...


class RuleSetRepository(Protocol):
    def store(self, ruleset: RuleSet) -> None:
        """Load a rule set; a version older than the one loaded is refused (ValueError)."""
        ...

    def get(self, ruleset_id: str, fresh: bool = False) -> RuleSet:
        """The newest version loaded of the rule set (KeyError if none is)."""
        ...

    def set_active(self, ruleset: RuleSet) -> None:
        """Make the rule set the active one for its region prefixes."""
        ...

    def for_region(
        self, region_code: str | None, default_id: str, candidate: RuleSet | None = None
    ) -> RuleSet:
        """The rule set that applies to a firm in `region_code` (rules.ruleset.applicable_id),
        as if `candidate` were active too."""
        ...
