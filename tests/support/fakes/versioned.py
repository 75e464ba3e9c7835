"""shared.versioned.Versioned over a dict, for the fakes of services that store documents with
write tokens. The contract is Versioned's: every write leaves a new token; an update lands only
on the document whose token it read, an insert only where the key is not stored, and any other
write is reported lost; updates set fields (`$set`), never replace the document; reads leave
out the projection's fields and hand out copies. `update`, the read-compute-write loop that
retries lost keys, is Versioned's own (tests/integration/test_versioned_fake.py runs the same
checks on both)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

from shared.versioned import WRITE_ID, Document, Versioned, fields, stamped


class InMemoryVersioned(Versioned):
    def __init__(self, projection: dict[str, bool] | None = None):
        super().__init__(collection=None, projection=projection)  # type: ignore[arg-type]
        self.documents: dict[str, Document] = {}
        self.after_reads: list[Callable[[], None]] = []

    def another_process(self) -> InMemoryVersioned:
        """The same documents as another process sees them (its own `meanwhile` writes)."""
        twin = InMemoryVersioned(self.projection)
        twin.documents = self.documents
        return twin

    def meanwhile(self, write: Callable[[], None]) -> None:
        """Run `write` right after a read, once (one read each, if called more than once):
        another process writing between a batch's read and its write."""
        self.after_reads.append(write)

    def read(self, keys: Iterable[str]) -> dict[str, Document]:
        found = {key: self.shown(self.documents[key]) for key in keys if key in self.documents}
        if self.after_reads:
            self.after_reads.pop(0)()
        return found

    def shown(self, document: Document) -> Document:
        hidden = {name for name, shown in (self.projection or {}).items() if not shown}
        return copy.deepcopy({k: v for k, v in document.items() if k not in hidden})

    def write(self, changes: list[tuple[Document, Document | None]]) -> set[str]:
        lost = set()
        for document, stored in changes:
            landed = self.insert(document) if stored is None else self.update_from(document, stored)
            if not landed:
                lost.add(document["_id"])
        return lost

    def insert(self, document: Document) -> bool:
        if document["_id"] in self.documents:
            return False
        self.documents[document["_id"]] = copy.deepcopy(stamped(document))
        return True

    def update_from(self, document: Document, stored: Document) -> bool:
        token = stored.get(WRITE_ID)
        return self.set_where(document["_id"], lambda now: now.get(WRITE_ID) == token, document)

    def set_where(self, key: str, holds: Callable[[Document], bool], values: Document) -> bool:
        """Set `values` (with a new write token) on the stored document of `key` if `holds` of
        it, as an update with a filter does; whether it did."""
        stored = self.documents.get(key)
        if stored is None or not holds(stored):
            return False
        stored.update(copy.deepcopy(fields(stamped(values))))
        return True
