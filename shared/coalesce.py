"""Group commit for database calls: what concurrent workers ask at the same moment goes to the
database as one command.

A nameko service runs each message's handler in its own greenthread, and each handler looks up
or records one document at a time. On the local FerretDB one command per document is most of
the cost (measured on 2,000 documents: an insert alone 0.62 ms, as one of 50 in a command
0.03 ms; a lookup by `_id` 0.44 ms, as one of 50 in an `$in` query 0.07 ms). A `Coalescer`
lets the caller whose turn it is run one command for every call queued at that moment; calls
made while that command is out go in the next one. A call made when nothing is queued runs at
once, alone, so a quiet service never waits for a batch to fill.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from pymongo import InsertOne, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from shared.mongo import BULK_CHUNK

In = TypeVar("In")
Out = TypeVar("Out")
DUPLICATE_KEY = 11000


class Interrupted(RuntimeError):
    """The command for this call did not finish: the worker running it was stopped."""


class _Call(Generic[In]):
    __slots__ = ("done", "item", "outcome")

    def __init__(self, item: In):
        self.item = item
        self.outcome: Any = None
        self.done = False


class Coalescer(Generic[In, Out]):
    """`coalescer(item)` returns what `run` gave for that item, or raises the exception it
    gave: `run` takes a list of items and returns one result (or exception) per item, in
    order; an exception it raises goes to every call of the batch."""

    def __init__(self, run: Callable[[list[In]], list[Any]], limit: int):
        self.run = run
        self.limit = limit
        self.queue: deque[_Call[In]] = deque()
        self.turn = threading.Lock()  # green under eventlet: waiting yields to other workers

    def __call__(self, item: In) -> Out:
        call = _Call(item)
        self.queue.append(call)
        with self.turn:
            while not call.done:  # ours may be behind a full batch of earlier calls
                batch = [self.queue.popleft() for _ in range(min(self.limit, len(self.queue)))]
                # What the batch gets if this worker is killed mid-command (a container
                # stopping): an error to retry on, never a wait for an answer that cannot come.
                stopped = Interrupted("the worker running this command was stopped")
                outcomes: list[Any] = [stopped] * len(batch)
                try:
                    outcomes = self.run([queued.item for queued in batch])
                    if len(outcomes) != len(batch):
                        raise RuntimeError(f"{len(outcomes)} results for {len(batch)} calls")
                except Exception as exc:
                    outcomes = [exc] * len(batch)
                finally:
                    for queued, outcome in zip(batch, outcomes, strict=True):
                        queued.outcome, queued.done = outcome, True
        if isinstance(call.outcome, Exception):
            raise call.outcome
        return call.outcome


class Lookups:
    """`lookups(key)`: the document with that `_id` (a copy of its fields in `projection`), or
    None. Concurrent lookups are one `_id: {$in: [...]}` query (an index lookup on MongoDB,
    and on the local FerretDB with the pushdown scripts/stack.sh adds)."""

    def __init__(self, collection: Collection, projection: dict[str, bool] | None = None):
        self.collection = collection
        self.projection = projection
        self.coalescer: Coalescer[Hashable, dict[str, Any] | None] = Coalescer(self.run, 100)

    def __call__(self, key: Hashable) -> dict[str, Any] | None:
        found = self.coalescer(key)
        return None if found is None else dict(found)

    def run(self, keys: list[Hashable]) -> list[dict[str, Any] | None]:
        if len(keys) == 1:
            return [self.collection.find_one({"_id": keys[0]}, self.projection)]
        query = {"_id": {"$in": list(dict.fromkeys(keys))}}
        found = {doc["_id"]: doc for doc in self.collection.find(query, self.projection)}
        return [found.get(key) for key in keys]


class Writes:
    """`writes(operation)`: one insert, or one update that cannot fail on its own (no upsert,
    no unique key it could break); an insert raises `DuplicateKeyError` for itself alone.
    Concurrent writes are one unordered bulk write of at most `BULK_CHUNK` operations
    (shared/mongo.py). No upserts: FerretDB stops an update command at its first failed
    statement and reports it at index 0, so the others' outcomes would be unknown.

    Returns True for an update known to have matched a document: a command reports only how
    many matched, so that is known when every update in it did (the usual case)."""

    def __init__(self, collection: Collection):
        self.collection = collection
        self.coalescer: Coalescer[Any, bool] = Coalescer(self.run, BULK_CHUNK)

    def __call__(self, operation: Any) -> bool:
        return self.coalescer(operation)

    def run(self, operations: list[Any]) -> list[Exception | bool]:
        updates = [isinstance(operation, UpdateOne) for operation in operations]
        try:
            matched = self.collection.bulk_write(operations, ordered=False).matched_count
        except BulkWriteError as exc:
            outcomes: list[Exception | bool] = [False] * len(operations)
            for error in exc.details.get("writeErrors", []):
                kind = DuplicateKeyError if error["code"] == DUPLICATE_KEY else OperationFailure
                outcomes[error["index"]] = kind(error["errmsg"], error["code"], error)
            return outcomes
        every_update_matched = matched == sum(updates)
        return [every_update_matched and update for update in updates]


class Versioned:
    """Documents that only a newer `version` replaces, written by group commit: an update
    guarded by version (read back when its command cannot tell whether it held), or an insert
    for a new key."""

    def __init__(self, collection: Collection):
        self.writes = Writes(collection)
        self.versions = Lookups(collection, {"version": True})

    def put(self, key: str, fields: dict[str, Any]) -> bool:
        """Store `fields` (which hold the `version`) unless a newer version is stored; False if
        it is. Callers hold the key's lock (shared/locks.py); another process may still write
        in between, which the read-back or the insert's duplicate key tells."""
        version = fields["version"]
        for _ in range(3):
            update = UpdateOne({"_id": key, "version": {"$lte": version}}, {"$set": fields})
            if self.writes(update):
                return True  # the guard held: ours is stored
            stored = self.versions(key)
            if stored is not None and stored["version"] >= version:
                return stored["version"] == version  # ours (or the same version again), or newer
            if stored is not None:
                continue  # an older version was stored after our update ran: update again
            try:
                self.writes(InsertOne({"_id": key, **fields}))
                return True
            except DuplicateKeyError:
                continue  # inserted a moment ago by another writer: the update decides
        return False
