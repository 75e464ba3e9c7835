"""The record of processed (source, id) pairs that makes redelivered events harmless."""

from __future__ import annotations

from pymongo import ASCENDING

from shared import clock
from shared.envelope import CloudEvent
from shared.mongo import Repository


class ProcessedEvents(Repository):
    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.db["processed_events"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("source", ASCENDING), ("id", ASCENDING)], unique=True)

    def seen(self, event: CloudEvent) -> bool:
        return self.collection.find_one({"source": event.source, "id": event.id}, {"_id": 1}) is not None

    def record(self, event: CloudEvent) -> None:
        self.collection.update_one(
            {"source": event.source, "id": event.id},
            {"$setOnInsert": {"type": event.type, "processed_at": clock.now()}},
            upsert=True,
        )
