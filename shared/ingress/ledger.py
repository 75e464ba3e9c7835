"""The ledger of (source, id) pairs that makes redelivered events harmless.

An event is *claimed* before its handler runs and *completed* after, with one atomic insert
guarding the claim, so two copies delivered at once are never both applied. A claim left by a
process that died mid-event expires after `lease`, so the redelivered copy can take over.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from shared import clock
from shared.coalesce import Writes
from shared.envelope import CloudEvent
from shared.mongo import Repository

DEFAULT_LEASE = timedelta(seconds=60)


def entry_id(event: CloudEvent) -> str:
    """The ledger's key: (source, id) in one string, so lookups go by _id (indexed anywhere)."""
    return f"{event.source}\n{event.id}"


class Claim(Enum):
    NEW = "new"  # this worker owns the event now
    DONE = "done"  # processed before: a duplicate
    BUSY = "busy"  # another worker holds a live claim: try again later


class ProcessedEvents(Repository):
    def __init__(self, db: Any, lease: timedelta = DEFAULT_LEASE):
        super().__init__(db)
        self.lease = lease
        self.writes = Writes(self.collection)  # claims and completions of concurrent workers

    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.db["processed_events"]

    def claim(self, event: CloudEvent) -> Claim:
        key = {"_id": entry_id(event)}
        now = clock.now()
        try:
            self.writes(
                InsertOne(
                    {
                        **key,
                        "source": event.source,
                        "id": event.id,
                        "type": event.type,
                        "state": "claimed",
                        "claimed_at": now,
                    }
                )
            )
            return Claim.NEW
        except DuplicateKeyError:
            pass
        entry = self.collection.find_one(key) or {}
        if entry.get("state") == "done":
            return Claim.DONE
        claimed_at = entry.get("claimed_at")
        if claimed_at is not None and now - claimed_at > self.lease:
            taken = self.collection.update_one(
                {**key, "state": "claimed", "claimed_at": claimed_at}, {"$set": {"claimed_at": now}}
            )
            if taken.modified_count == 1:
                return Claim.NEW
        return Claim.BUSY

    def complete(self, event: CloudEvent) -> None:
        self.writes(
            UpdateOne(
                {"_id": entry_id(event)},
                {"$set": {"state": "done", "processed_at": clock.now()}},
            )
        )

    def release(self, event: CloudEvent) -> None:
        """Drop the claim of an event that failed, so its retry can claim it again."""
        self.collection.delete_one({"_id": entry_id(event), "state": "claimed"})
