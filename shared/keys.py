"""API keys: shown once when issued, stored only as a SHA-256 hash, compared in constant time.

A key is `tk_<key id>.<secret>`: the id finds the record, the secret proves it. Each key has an
owner: an incubator id (incubators service), a unit code or `admin` (notifications service).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from pymongo import ASCENDING

from shared import clock
from shared.mongo import Repository, RepositoryProvider

PREFIX = "tk_"
ADMIN = "admin"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys(Repository):
    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.db["api_keys"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("owner", ASCENDING)])

    def issue(self, owner: str) -> str:
        """A new key for the owner; the returned text is the only copy of the secret."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        self.collection.insert_one(
            {
                "_id": key_id,
                "key_id": key_id,
                "owner": owner,
                "hash": digest(secret),
                "created_at": clock.now(),
                "revoked_at": None,
            }
        )
        return f"{PREFIX}{key_id}.{secret}"

    def owner_of(self, token: str) -> str | None:
        """The owner of a presented key, or None (unknown, wrong or revoked)."""
        if not token.startswith(PREFIX) or "." not in token:
            return None
        key_id, _, secret = token[len(PREFIX) :].partition(".")
        record = self.collection.find_one({"_id": key_id})
        expected = record["hash"] if record else digest("")
        matches = hmac.compare_digest(expected, digest(secret))  # same work when unknown
        if record is None or not matches or record.get("revoked_at"):
            return None
        return str(record["owner"])

    def listing(self, owner: str | None = None) -> list[dict[str, Any]]:
        query = {"owner": owner} if owner else {}
        return list(
            self.collection.find(query, {"_id": False, "hash": False}).sort("created_at", ASCENDING)
        )

    def revoke(self, key_id: str) -> bool:
        result = self.collection.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": clock.now()}}
        )
        return result.modified_count == 1

    def rotate(self, key_id: str) -> str | None:
        """A new key for the same owner; the old one is revoked. None if unknown/revoked."""
        record = self.collection.find_one({"_id": key_id, "revoked_at": None})
        if record is None:
            return None
        token = self.issue(record["owner"])
        self.revoke(key_id)
        return token


class ApiKeyStore(RepositoryProvider):
    repository_class = ApiKeys


def presented_token(request: Any) -> str:
    """The key in the request's `Authorization: Bearer <key>`, or ''."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def key_id(token: str) -> str:
    """The public part of a key (`tk_<key id>.<secret>`): safe to log, count or limit by."""
    return token.removeprefix(PREFIX).partition(".")[0]


def bearer_owner(keys: ApiKeys, request: Any) -> str:
    """The owner of the request's `Authorization: Bearer <key>`, or a 401 problem."""
    from shared.http import Problem

    token = presented_token(request)
    owner = keys.owner_of(token) if token else None
    if owner is None:
        raise Problem(
            401,
            "Unauthorized",
            "a valid key is required: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return owner
