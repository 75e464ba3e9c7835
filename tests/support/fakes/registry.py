"""registry's records in memory (an EnterpriseRepository), for unit tests of its use cases:
stored as storage.Enterprises stores them, in an InMemoryVersioned."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from services.registry.records import Record
from services.registry.repository import RecordChange
from services.registry.storage import from_document, on_documents
from shared.versioned import Document
from tests.support.fakes.versioned import InMemoryVersioned


class InMemoryEnterprises:
    def __init__(self, versioned: InMemoryVersioned | None = None) -> None:
        self.versioned = versioned or InMemoryVersioned()

    def another_process(self) -> InMemoryEnterprises:
        """The same records as another process (another replica) sees them."""
        return InMemoryEnterprises(self.versioned.another_process())

    def stored(self, uscc: str) -> Document:
        """A copy of the stored document (its write token included), to check what was
        written."""
        return copy.deepcopy(self.versioned.documents[uscc])

    def read(self, usccs: Iterable[str]) -> dict[str, Record]:
        return {uscc: from_document(d) for uscc, d in self.versioned.read(usccs).items()}

    def update(self, usccs: Iterable[str], change: RecordChange) -> set[str]:
        return self.versioned.update(usccs, on_documents(change))
