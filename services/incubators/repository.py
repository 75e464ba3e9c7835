"""What incubators' use cases and reads need from storage (storage.Incubators on MongoDB;
tests/support/fakes/incubators.py in memory).

A firm's life-cycle document (its facts and the incubations derived from them) and its
registry facts are versioned documents (shared/versioned.py): `update_lifecycles` and
`update_firms` read the documents of a batch of firms, `compute` each new one from the one
stored (None: nothing to write), and write it only over the document it was computed from;
a firm whose write kept losing to another writer is returned, for its events to be retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from services.incubators.findings import Change, Finding
from services.incubators.lifecycle import Incubation
from services.incubators.rules import IncubatorRules

Document = dict[str, Any]
Compute = Callable[[str, Document | None], Document | None]


class IncubatorsRepository(Protocol):
    # carriers and their yearly reports: the newest by order key wins, whatever the order
    def put_carrier(self, carrier: Document, key: str) -> None: ...

    def put_carrier_report(self, report: Document, key: str) -> None: ...

    def carrier(self, incubator_id: str) -> Document | None: ...

    def carriers(self) -> dict[str, Document]: ...

    def carrier_count(self) -> int: ...

    def carrier_reports(self, incubator_id: str) -> list[Document]:
        """The carrier's yearly reports, by year."""

    def carrier_units(self, incubator_ids: Iterable[str]) -> dict[str, str | None]:
        """Each carrier's unit (None: not registered yet)."""

    # firms' life cycles
    def hold_firms(self, usccs: Iterable[str]) -> AbstractContextManager[None]:
        """This process's only writer of these firms while held (life-cycle events and
        registry snapshots meet on a firm)."""

    def update_lifecycles(self, usccs: list[str], compute: Compute) -> set[str]: ...

    def lifecycles_of(self, usccs: Iterable[str]) -> dict[str, Document]: ...

    def all_lifecycles(self) -> Iterator[tuple[str, Document]]: ...

    def incubations_of_firms(self, usccs: list[str]) -> dict[str, list[Incubation]]:
        """The incubations of each of these firms that has any."""

    def note_in_carriers(
        self, incubations: list[Incubation], removed: Iterable[Incubation] = ()
    ) -> None:
        """Each carrier's map of its incubations (state and dates); `removed`: no longer
        derived (void)."""

    def carrier_items(self, incubator_id: str) -> list[Document]:
        """(uscc, state, admitted_on, ended_on) of each of the carrier's incubations."""

    def incubates(self, incubator_id: str, uscc: str) -> bool:
        """Whether the carrier incubates the firm now (an open incubation)."""

    def counts(self, incubator_id: str | None = None) -> dict[str, int]:
        """current, cumulative, graduated and exited: of one carrier, or of all."""

    def all_incubations(self) -> Iterator[Incubation]: ...

    def incubated_firms(self, usccs: list[str]) -> set[str]:
        """Those of these firms with an incubation here, or an admission here that their
        founding date voided (a corrected date may restore it)."""

    def distinct_incubated_firms(self) -> int: ...

    # firms' registry facts (firms.py)
    def update_firms(self, usccs: list[str], compute: Compute) -> set[str]: ...

    def registry_facts(self, usccs: Iterable[str]) -> dict[str, Document]: ...

    def known_firms(self, usccs: Iterable[str]) -> set[str]:
        """Those of these firms whose registry facts are kept here."""

    # findings
    def stored_findings(self, finding_ids: Iterable[str]) -> dict[str, Document]: ...

    def apply_findings(self, changes: list[Change]) -> None:
        """New findings, and changes of stored ones guarded by the revision they were
        computed from (a change that lost to another writer leaves the other's)."""

    def findings_waiting_for(self, incubator_id: str, unit: str) -> list[Document]:
        """Give the carrier's findings made before it registered its unit; those of them
        not announced at their revision."""

    def mark_announced(self, findings: list[Finding]) -> None:
        """Each finding announced up to its revision (never lowered)."""

    def findings_of(self, incubator_id: str, limit: int = 100) -> list[Document]:
        """The carrier's findings as the APIs show them, the latest first."""

    def open_findings(self) -> Iterator[Document]: ...

    def open_findings_of(self, incubator_ids: list[str]) -> dict[str, int]:
        """How many findings of each of these carriers are open."""

    # the ids POST /v1/events has accepted
    def accepted(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]: ...

    def mark_accepted(self, keys: list[tuple[str, str]]) -> None: ...


class RuleBook(Protocol):
    """The incubator rule sets loaded (every version kept) and the one active."""

    def store(self, ruleset: IncubatorRules) -> None:
        """Keep a rule set; a version older than the one loaded is refused."""

    def get(self, ruleset_id: str, fresh: bool = False) -> IncubatorRules: ...

    def set_active(self, rules: IncubatorRules) -> None: ...

    def active(self) -> IncubatorRules: ...

    def active_id(self, fresh: bool = False) -> str | None: ...

    def listing(self) -> list[dict[str, Any]]: ...
