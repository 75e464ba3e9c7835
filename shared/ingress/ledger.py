"""The ledger of (source, id) pairs that makes redelivered events harmless.

An event is recorded once its handler has applied it, before its message is acked: a copy
that finds its pair recorded is a duplicate. Handlers are idempotent (order keys, versions),
so an event applied but not yet recorded when its process died is simply applied again when
the broker delivers it again, and two copies handled at once by two replicas end in the same
state; the second to record it is counted as the duplicate. A batch costs one lookup and one
insert command, whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from shared.domain import clock
from shared.envelope import CloudEvent
from shared.mongo import Repository, find_by_ids

DUPLICATE_KEY = 11000
LEGACY_CLAIM = "claimed"  # left by versions that claimed before handling: not done


def entry_id(event: CloudEvent) -> str:
    """The ledger's key: (source, id) in one string, so lookups go by _id (indexed anywhere)."""
    return f"{event.source}\n{event.id}"


class ProcessedEvents(Repository):
    @property
    def collection(self) -> Collection[dict[str, Any]]:
        return self.db["processed_events"]

    def done(self, events: Iterable[CloudEvent]) -> set[str]:
        """The keys (`entry_id`) of those events recorded as processed."""
        keys = {entry_id(event) for event in events}
        found = find_by_ids(self.collection, keys, fields={"state": True})
        return {entry["_id"] for entry in found if entry.get("state") != LEGACY_CLAIM}

    def record(self, events: Iterable[CloudEvent]) -> set[str]:
        """Record events as processed; the keys that another process recorded first."""
        now = clock.now()
        entries = {
            entry_id(event): {
                "_id": entry_id(event),
                "source": event.source,
                "id": event.id,
                "type": event.type,
                "state": "done",
                "processed_at": now,
            }
            for event in events
        }
        if not entries:
            return set()
        try:
            self.collection.insert_many(list(entries.values()), ordered=False)
            return set()
        except BulkWriteError as exc:
            errors: list[dict[str, Any]] = exc.details.get("writeErrors", [])
            if any(error["code"] != DUPLICATE_KEY for error in errors):
                raise
        keys = list(entries)
        taken = {keys[error["index"]] for error in errors}
        legacy = [
            entry["_id"]
            for entry in find_by_ids(self.collection, taken, fields={"state": True})
            if entry.get("state") == LEGACY_CLAIM
        ]
        if legacy:
            self.collection.update_many(
                {"_id": {"$in": legacy}, "state": LEGACY_CLAIM}, {"$set": {"state": "done"}}
            )
        return taken - set(legacy)
