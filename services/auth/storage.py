"""MongoDB storage of API keys (database `tracker_auth`, a KeyRepository): one document per
key, found by its key id, holding only the SHA-256 of its secret."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from shared.mongo import Repository, RepositoryProvider

PUBLIC = {"_id": False, "hash": False}


class ApiKeys(Repository):
    @property
    def collection(self) -> Collection[dict[str, Any]]:
        return self.db["api_keys"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("kind", ASCENDING), ("subject", ASCENDING)])

    def add(self, record: dict[str, Any]) -> bool:
        with suppress(DuplicateKeyError):
            self.collection.insert_one({"_id": record["key_id"], **record})
            return True
        return False

    def find(self, key_id: str) -> dict[str, Any] | None:
        return self.collection.find_one({"_id": key_id})

    def revoke(self, key_id: str, at: datetime) -> bool:
        result = self.collection.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": at}}
        )
        return result.modified_count == 1

    def of_owner(self, owner: dict[str, str] | None) -> list[dict[str, Any]]:
        query = {"kind": owner["kind"], "subject": owner["subject"]} if owner else {}
        return list(self.collection.find(query, PUBLIC).sort("created_at", ASCENDING))


class ApiKeyStore(RepositoryProvider[ApiKeys]):
    repository_class = ApiKeys
