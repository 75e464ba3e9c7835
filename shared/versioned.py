"""Documents kept one per key with a `version`, read and written a batch at a time.

A batch reads its documents in one `_id: {$in}` query, computes the new ones, and writes them in
bulk commands. Every write leaves a token of its own (`write_id`), and an update is guarded by
the token it read, so it only lands on the document it was computed from (a key not stored yet
is inserted). A write that lost to another writer (another replica, a re-evaluation) is found by
its token not being stored, and that key is read and computed again. Whether a newer document
may replace an older one is the caller's rule (versions, order keys), applied in `compute`.
Updates never upsert: FerretDB stops an update command at its first failed statement, so the
outcome of the others would be unknown.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from shared.mongo import BULK_CHUNK, find_by_ids

Document = dict[str, Any]
ATTEMPTS = 3
DUPLICATE_KEY = 11000
WRITE_ID = "write_id"  # a token per write: which writer's document is stored


class Versioned:
    def __init__(self, collection: Collection, projection: dict[str, bool] | None = None):
        self.collection = collection
        self.projection = projection  # what `read` leaves out (bulky fields a batch needn't see)

    def read(self, keys: Iterable[str]) -> dict[str, Document]:
        """The stored documents of these keys (absent ones left out)."""
        found = find_by_ids(self.collection, keys, fields=self.projection)
        return {document["_id"]: document for document in found}

    def write(self, changes: list[tuple[Document, Document | None]]) -> set[str]:
        """Store each new document unless the stored one is no longer the one it was computed
        from (None: not stored, so inserted); the keys whose write lost to another writer."""
        lost: set[str] = set()
        for start in range(0, len(changes), BULK_CHUNK):
            chunk = [(stamped(doc), stored) for doc, stored in changes[start : start + BULK_CHUNK]]
            writes = [
                InsertOne(doc)
                if stored is None
                else UpdateOne(
                    {"_id": doc["_id"], WRITE_ID: stored.get(WRITE_ID)}, {"$set": fields(doc)}
                )
                for doc, stored in chunk
            ]
            updates = sum(stored is not None for _, stored in chunk)
            try:
                result = self.collection.bulk_write(writes, ordered=False)
                complete = result.matched_count == updates
            except BulkWriteError as exc:  # an insert found the key stored meanwhile
                if any(e["code"] != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                    raise
                complete = False
            if not complete:
                lost |= self.not_stored([doc for doc, _ in chunk])
        return lost

    def not_stored(self, written: list[Document]) -> set[str]:
        tokens = {doc["_id"]: doc[WRITE_ID] for doc in written}
        stored = find_by_ids(self.collection, tokens, fields={WRITE_ID: True})
        return set(tokens) - {d["_id"] for d in stored if d.get(WRITE_ID) == tokens[d["_id"]]}

    def update(
        self,
        keys: Iterable[str],
        compute: Callable[[str, Document | None], Document | None],
        before_write: Callable[[list[Document]], None] | None = None,
    ) -> set[str]:
        """For each key: read its document, `compute` the new one (None: nothing to write),
        `before_write` all of them (what must be stored first), write. Keys whose write lost
        are done again, up to ATTEMPTS times; returns those that kept losing."""
        pending = set(keys)
        for _ in range(ATTEMPTS):
            stored = self.read(pending)
            changes = []
            for key in sorted(pending):
                new = compute(key, stored.get(key))
                if new is not None:
                    changes.append((new, stored.get(key)))
            if before_write is not None:
                before_write([doc for doc, _ in changes])
            pending = self.write(changes)
            if not pending:
                break
        return pending


def stamped(fields: Document) -> Document:
    """`fields` with a new write token: whoever writes a versioned document sets one, so that
    writes computed from what it replaced are refused."""
    return {**fields, WRITE_ID: uuid.uuid4().hex}


def fields(document: Document) -> Document:
    """A document's fields for `$set` (`_id` is immutable, even unchanged, for some servers)."""
    return {key: value for key, value in document.items() if key != "_id"}
