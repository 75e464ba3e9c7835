"""What auth's use cases need from storage (storage.ApiKeys on MongoDB;
tests/support/fakes/auth.py in memory). A stored key is its record with the `hash` of its
secret, never the secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

KeyRecord = dict[str, Any]  # key_id, kind, subject, hash, created_at, revoked_at


class KeyRepository(Protocol):
    def add(self, record: KeyRecord) -> bool:
        """Store a key; False (and nothing stored) when its key id is taken."""

    def find(self, key_id: str) -> KeyRecord | None:
        """The stored key with this id, hash included, revoked or not."""

    def revoke(self, key_id: str, at: datetime) -> bool:
        """Revoke the key unless it is unknown or revoked already (False then)."""

    def of_owner(self, owner: dict[str, str] | None) -> list[KeyRecord]:
        """Keys of one owner (kind, subject), or every key, oldest first, without hashes."""
