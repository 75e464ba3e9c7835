"""shared.versioned.Versioned in memory, with the same write-token contract: every write leaves
a token of its own, an update lands only on the document whose token it read, an insert only
where nothing is stored, and any other write is reported lost; updates set fields (`$set`),
never replace the document; reads leave out the projection's fields and hand out copies.
`update` is inherited, so the retry loop is the real one (tests/integration/
test_versioned_fake.py runs the same checks on both).

A test plays the other replica at either moment a batch can lose to it: `meanwhile` runs once
right after a read (before the batch computes, and records what must be stored first), and
`another_writer`, while set, runs before each write with the keys about to be written."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from shared.versioned import WRITE_ID, Document, Versioned, fields, stamped


class InMemoryVersioned(Versioned):
    def __init__(self, projection: dict[str, bool] | None = None) -> None:  # no collection
        self.projection = projection
        self.documents: dict[str, Document] = {}
        self.after_reads: list[Callable[[], None]] = []
        self.another_writer: Callable[[list[str]], None] | None = None

    def another_process(self) -> InMemoryVersioned:
        """The same documents, as another process sees them (without this one's hooks)."""
        twin = InMemoryVersioned(self.projection)
        twin.documents = self.documents
        return twin

    def meanwhile(self, write: Callable[[], None]) -> None:
        """Run `write` right after a read, once (one read each, if called more than once)."""
        self.after_reads.append(write)

    def put(self, document: Document) -> None:
        """Store a document as another writer would (a new token)."""
        self.documents[document["_id"]] = copy.deepcopy(stamped(document))

    def read(self, keys: Iterable[str]) -> dict[str, Document]:
        found = {key: self.shown(self.documents[key]) for key in keys if key in self.documents}
        if self.after_reads:
            self.after_reads.pop(0)()
        return found

    def shown(self, document: Document) -> Document:
        hidden = {name for name, shown in (self.projection or {}).items() if not shown}
        return copy.deepcopy({k: v for k, v in document.items() if k not in hidden})

    def write(self, changes: list[tuple[Document, Document | None]]) -> set[str]:
        if self.another_writer is not None and changes:
            self.another_writer([document["_id"] for document, _ in changes])
        lost = set()
        for document, stored in changes:
            landed = self.insert(document) if stored is None else self.update_from(document, stored)
            if not landed:
                lost.add(document["_id"])
        return lost

    def insert(self, document: Document) -> bool:
        if document["_id"] in self.documents:
            return False
        self.put(document)
        return True

    def update_from(self, document: Document, stored: Document) -> bool:
        token = stored.get(WRITE_ID)
        return self.set_where(document["_id"], lambda now: now.get(WRITE_ID) == token, document)

    def set_where(
        self,
        key: str,
        holds: Callable[[Document], bool],
        values: Document,
        unset: Iterable[str] = (),
    ) -> bool:
        """Set `values` (with a new write token) on the stored document of `key` and remove its
        `unset` fields if `holds` of it, as an update with a filter does (`$set`, `$unset`; a
        dotted name is a field of an embedded document); whether it did."""
        stored = self.documents.get(key)
        if stored is None or not holds(stored):
            return False
        for name, value in fields(stamped(values)).items():
            *parents, last = name.split(".")
            embedded = stored
            for parent in parents:
                embedded = embedded.setdefault(parent, {})
            embedded[last] = copy.deepcopy(value)
        for name in unset:
            *parents, last = name.split(".")
            holder: Any = stored
            for parent in parents:
                holder = holder.get(parent) if isinstance(holder, dict) else None
            if isinstance(holder, dict):
                holder.pop(last, None)
        return True
