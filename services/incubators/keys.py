"""Incubator API keys: shown once when issued, stored only as a SHA-256 hash, compared in
constant time. A key is `tki_<key id>.<secret>`; the id finds the record, the secret proves it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from pymongo import ASCENDING

from shared import clock
from shared.mongo import Repository, RepositoryProvider

PREFIX = "tki_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys(Repository):
    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.db["api_keys"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("key_id", ASCENDING)], unique=True)

    def issue(self, incubator_id: str) -> str:
        """A new key for the incubator; the returned text is the only copy of the secret."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        self.collection.insert_one(
            {
                "key_id": key_id,
                "incubator_id": incubator_id,
                "hash": digest(secret),
                "created_at": clock.now(),
                "revoked_at": None,
            }
        )
        return f"{PREFIX}{key_id}.{secret}"

    def incubator_for(self, token: str) -> str | None:
        """The incubator a presented key belongs to, or None (unknown, wrong or revoked)."""
        if not token.startswith(PREFIX) or "." not in token:
            return None
        key_id, _, secret = token[len(PREFIX) :].partition(".")
        record = self.collection.find_one({"key_id": key_id})
        expected = record["hash"] if record else digest("")
        matches = hmac.compare_digest(expected, digest(secret))  # same work when unknown
        if record is None or not matches or record.get("revoked_at"):
            return None
        return str(record["incubator_id"])

    def listing(self, incubator_id: str | None = None) -> list[dict[str, Any]]:
        query = {"incubator_id": incubator_id} if incubator_id else {}
        return list(
            self.collection.find(query, {"_id": False, "hash": False}).sort("created_at", ASCENDING)
        )

    def revoke(self, key_id: str) -> bool:
        result = self.collection.update_one(
            {"key_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": clock.now()}}
        )
        return result.modified_count == 1

    def rotate(self, key_id: str) -> str | None:
        """A new key for the same incubator; the old one is revoked. None if unknown/revoked."""
        record = self.collection.find_one({"key_id": key_id, "revoked_at": None})
        if record is None:
            return None
        token = self.issue(record["incubator_id"])
        self.revoke(key_id)
        return token


class ApiKeyStore(RepositoryProvider):
    repository_class = ApiKeys
