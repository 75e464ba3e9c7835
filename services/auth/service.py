"""auth service: who a key speaks for. Keys are issued, listed, rotated and revoked over RPC by
`tracker keys`, and every service resolves a request's bearer key with `verify` (through
shared/auth.py, which caches the answer briefly). HTTP serves only the ops endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc

from services.auth.principals import Principal, legacy_owner
from services.auth.schemas import LegacyKey, Owner
from services.auth.storage import ApiKeyStore
from shared.envelope import flatten_errors
from shared.ops import OpsEndpoints


class InvalidOwner(ValueError):
    """The owner given to `issue` or `list` is not one a key can have (field errors)."""


def load_owner(owner: dict[str, Any]) -> dict[str, str]:
    try:
        return Owner().load(owner)
    except ValidationError as exc:
        raise InvalidOwner(flatten_errors(exc.messages)) from None


class AuthService(OpsEndpoints):
    name = "auth"

    keys = ApiKeyStore()

    @rpc
    def verify(self, token: str) -> Principal | None:
        return self.keys.verify(token) if isinstance(token, str) else None

    @rpc
    def principal_of(self, key_id: str) -> Principal | None:
        return self.keys.principal_of(key_id) if isinstance(key_id, str) else None

    @rpc
    def issue(self, owner: dict[str, Any]) -> dict[str, Any]:
        return self.keys.issue(load_owner(owner))

    @rpc
    def list(self, owner: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.keys.listing(load_owner(owner) if owner else None)

    @rpc
    def revoke(self, key_id: str) -> bool:
        return self.keys.revoke(key_id)

    @rpc
    def rotate(self, key_id: str) -> dict[str, Any] | None:
        return self.keys.rotate(key_id)

    @rpc
    def import_legacy(self, records: list[dict[str, Any]]) -> dict[str, int]:
        """Keys from the incubators and notifications databases, kept with their ids and
        hashes so that keys issued before this service keep working."""
        imported = 0
        for record in records:
            loaded = LegacyKey().load(record)
            imported += self.keys.import_key(
                loaded["key_id"],
                legacy_owner(loaded["owner"]),
                loaded["hash"],
                created_at=loaded["created_at"],
                revoked_at=loaded["revoked_at"],
            )
        return {"imported": imported, "known": len(records) - imported}
