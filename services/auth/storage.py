"""MongoDB storage of API keys (database `tracker_auth`): one document per key, found by its
key id, holding only the SHA-256 of its secret."""

from __future__ import annotations

import hmac
from contextlib import suppress
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.auth.principals import Principal, digest, new_key, principal, split
from shared import clock
from shared.mongo import Repository, RepositoryProvider

PUBLIC = {"_id": False, "hash": False}


class ApiKeys(Repository):
    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.db["api_keys"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("kind", ASCENDING), ("subject", ASCENDING)])

    def issue(self, owner: dict[str, str]) -> dict[str, Any]:
        """A new key; the returned `key` is the only copy of its secret."""
        key_id, token, hashed = new_key()
        record = {
            "key_id": key_id,
            "kind": owner["kind"],
            "subject": owner["subject"],
            "created_at": clock.now(),
            "revoked_at": None,
        }
        self.collection.insert_one({"_id": key_id, **record, "hash": hashed})
        return {"key": token, **record}

    def verify(self, token: str) -> Principal | None:
        """The principal of a presented key, or None (malformed, unknown, wrong or revoked).
        An unknown key id costs the same hash and comparison as a known one."""
        parts = split(token)
        if parts is None:
            return None
        key_id, secret = parts
        record = self.collection.find_one({"_id": key_id})
        expected = record["hash"] if record else digest("")
        if not hmac.compare_digest(expected, digest(secret)) or record is None:
            return None
        return None if record.get("revoked_at") else principal(record)

    def principal_of(self, key_id: str) -> Principal | None:
        """The principal of an active key, by its id (a portal session keeps only the id)."""
        record = self.collection.find_one({"_id": key_id, "revoked_at": None})
        return None if record is None else principal(record)

    def listing(self, owner: dict[str, str] | None = None) -> list[dict[str, Any]]:
        query = {"kind": owner["kind"], "subject": owner["subject"]} if owner else {}
        return list(self.collection.find(query, PUBLIC).sort("created_at", ASCENDING))

    def revoke(self, key_id: str) -> bool:
        result = self.collection.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": clock.now()}}
        )
        return result.modified_count == 1

    def rotate(self, key_id: str) -> dict[str, Any] | None:
        """A new key for the same owner, the old one revoked; None if unknown or revoked."""
        record = self.collection.find_one({"_id": key_id, "revoked_at": None})
        if record is None:
            return None
        issued = self.issue({"kind": record["kind"], "subject": record["subject"]})
        self.revoke(key_id)
        return issued

    def import_key(self, key_id: str, owner: dict[str, str], hashed: str, **dates: Any) -> bool:
        """Keep a key issued before this service (its id and hash as they were); False when a
        key with that id is here already."""
        document = {"_id": key_id, "key_id": key_id, **owner, "hash": hashed}
        document["created_at"] = dates.get("created_at") or clock.now()
        document["revoked_at"] = dates.get("revoked_at")
        with suppress(DuplicateKeyError):
            self.collection.insert_one(document)
            return True
        return False


class ApiKeyStore(RepositoryProvider):
    repository_class = ApiKeys
