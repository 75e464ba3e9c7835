"""shared.versioned.Versioned in memory, with the same write-token contract: every write leaves
a token of its own, an update lands only on the document whose token it read, an insert only
where nothing is stored, and `update` (inherited, so the retry loop is the real one) computes a
key again when its write lost. `another_writer`, when set, runs before each write with the keys
about to be written: a test's way to be the other replica."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

from shared.versioned import WRITE_ID, Document, Versioned, fields, stamped


class InMemoryVersioned(Versioned):
    def __init__(self) -> None:  # no collection
        self.documents: dict[str, Document] = {}
        self.another_writer: Callable[[list[str]], None] | None = None

    def read(self, keys: Iterable[str]) -> dict[str, Document]:
        return {k: copy.deepcopy(self.documents[k]) for k in set(keys) if k in self.documents}

    def write(self, changes: list[tuple[Document, Document | None]]) -> set[str]:
        if self.another_writer is not None and changes:
            self.another_writer([doc["_id"] for doc, _ in changes])
        lost = set()
        for doc, stored in changes:
            key, current = doc["_id"], self.documents.get(doc["_id"])
            if stored is None and current is None:
                self.documents[key] = copy.deepcopy(stamped(doc))
            elif (
                stored is not None
                and current is not None
                and (current.get(WRITE_ID) == stored.get(WRITE_ID))
            ):
                current.update(copy.deepcopy(fields(stamped(doc))))
            else:
                lost.add(key)
        return lost

    def put(self, document: Document) -> None:
        """Store a document as another writer would (a new token)."""
        self.documents[document["_id"]] = copy.deepcopy(stamped(document))
