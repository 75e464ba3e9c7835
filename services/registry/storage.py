"""MongoDB storage of enterprise records, behind a nameko DependencyProvider."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.mongo import Repository, RepositoryProvider


class Enterprises(Repository):
    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.db["enterprises"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("uscc", ASCENDING)], unique=True)

    def register(
        self, uscc: str, profile: dict[str, Any], event_time: datetime
    ) -> dict[str, Any] | None:
        """Store the profile unless a registration with a later event time is already stored.

        Returns the updated record, or None when this registration is stale.
        """
        newer_or_absent = {
            "$or": [
                {"profile.registered_at": {"$lte": event_time}},
                {"profile": {"$exists": False}},
            ]
        }
        try:
            record = self.collection.find_one_and_update(
                {"uscc": uscc, **newer_or_absent},
                {"$set": {"profile": profile}, "$setOnInsert": {"uscc": uscc}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return None  # the stored registration is newer
        record.pop("_id", None)  # FerretDB 1.24 has no projection in findAndModify
        return record

    def get(self, uscc: str) -> dict[str, Any] | None:
        return self.collection.find_one({"uscc": uscc}, {"_id": False})


class EnterpriseStore(RepositoryProvider):
    repository_class = Enterprises
