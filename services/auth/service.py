"""auth service: who a key speaks for. Keys are issued, listed, rotated and revoked over RPC by
`tracker keys`, and every service resolves a request's bearer key with `verify` (through
shared/auth.py, which caches the answer briefly). HTTP serves only the ops endpoints. Use
cases in handlers.py."""

from __future__ import annotations

import builtins
from typing import Any

from nameko.rpc import rpc

from services.auth import handlers
from services.auth.principals import Principal
from services.auth.storage import ApiKeyStore
from shared.ops import OpsEndpoints


class AuthService(OpsEndpoints):
    name = "auth"

    keys = ApiKeyStore()

    @rpc
    def verify(self, token: str) -> Principal | None:
        return handlers.verify(self.keys, token)

    @rpc
    def principal_of(self, key_id: str) -> Principal | None:
        return handlers.principal_of(self.keys, key_id)

    @rpc
    def issue(self, owner: dict[str, Any]) -> dict[str, Any]:
        return handlers.issue(self.keys, owner)

    @rpc  # `list` is the RPC's public name: below it, `list` means this method
    def list(self, owner: dict[str, Any] | None = None) -> builtins.list[dict[str, Any]]:
        return handlers.listing(self.keys, owner)

    @rpc
    def revoke(self, key_id: str) -> bool:
        return handlers.revoke(self.keys, key_id)

    @rpc
    def rotate(self, key_id: str) -> dict[str, Any] | None:
        return handlers.rotate(self.keys, key_id)

    @rpc
    def import_legacy(self, records: builtins.list[dict[str, Any]]) -> dict[str, int]:
        """Keys issued by incubators and notifications before this service (their ids and
        hashes), so that they keep working."""
        return handlers.import_legacy(self.keys, records)
