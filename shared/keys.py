"""API keys issued before the auth service existed, which the incubators (incubator keys) and
notifications (unit and admin keys) services kept in their own `api_keys` collections. Each of
the two hands them over once, over RPC, to `tracker keys import-legacy`, which gives them to the
auth service with their ids and hashes as they were, so every key issued before keeps working.
Only hashes cross the broker: no secret was ever stored."""

from __future__ import annotations

from typing import Any

from shared.mongo import Repository, RepositoryProvider

FIELDS = ("key_id", "owner", "hash", "created_at", "revoked_at")


class LegacyKeys(Repository):
    def records(self) -> list[dict[str, Any]]:
        return [
            {field: document.get(field) for field in FIELDS}
            for document in self.db["api_keys"].find({}, {"_id": False})
        ]


class LegacyKeyStore(RepositoryProvider[LegacyKeys]):
    repository_class = LegacyKeys
