"""auth's use cases: issue, verify, list, rotate, revoke and import keys. Each takes the
storage as a KeyRepository; the key format and hashing are principals.py's."""

from __future__ import annotations

import hmac
from typing import Any

from marshmallow import ValidationError

from services.auth.principals import Principal, digest, legacy_owner, new_key, principal, split
from services.auth.repository import KeyRepository
from services.auth.schemas import LegacyKey, Owner
from shared.domain import clock
from shared.envelope import flatten_errors


class InvalidOwner(ValueError):
    """The owner given to `issue` or `list` is not one a key can have (field errors)."""


def load_owner(owner: dict[str, Any]) -> dict[str, str]:
    try:
        return Owner().load(owner)
    except ValidationError as exc:
        raise InvalidOwner(flatten_errors(exc.messages)) from None


def issue(keys: KeyRepository, owner: dict[str, Any]) -> dict[str, Any]:
    """A new key for a valid owner; the returned `key` is the only copy of its secret."""
    wanted = load_owner(owner)
    key_id, token, hashed = new_key()
    record = {
        "key_id": key_id,
        "kind": wanted["kind"],
        "subject": wanted["subject"],
        "created_at": clock.now(),
        "revoked_at": None,
    }
    if not keys.add({**record, "hash": hashed}):
        raise RuntimeError(f"key id {key_id} is taken")  # 48 random bits: not in practice
    return {"key": token, **record}


def verify(keys: KeyRepository, token: Any) -> Principal | None:
    """The principal of a presented key, or None (not text, malformed, unknown, wrong or
    revoked). An unknown key id costs the same hash and comparison as a known one."""
    parts = split(token) if isinstance(token, str) else None
    if parts is None:
        return None
    key_id, secret = parts
    record = keys.find(key_id)
    expected = record["hash"] if record else digest("")
    if not hmac.compare_digest(expected, digest(secret)) or record is None:
        return None
    return None if record.get("revoked_at") else principal(record)


def principal_of(keys: KeyRepository, key_id: Any) -> Principal | None:
    """The principal of an active key, by its id (a portal session keeps only the id)."""
    record = keys.find(key_id) if isinstance(key_id, str) else None
    return None if record is None or record.get("revoked_at") else principal(record)


def listing(keys: KeyRepository, owner: dict[str, Any] | None) -> list[dict[str, Any]]:
    return keys.of_owner(load_owner(owner) if owner else None)


def revoke(keys: KeyRepository, key_id: str) -> bool:
    return keys.revoke(key_id, clock.now())


def rotate(keys: KeyRepository, key_id: str) -> dict[str, Any] | None:
    """A new key for the same owner, the old one revoked; None if unknown or revoked."""
    record = keys.find(key_id)
    if record is None or record.get("revoked_at"):
        return None
    issued = issue(keys, {"kind": record["kind"], "subject": record["subject"]})
    revoke(keys, key_id)
    return issued


def import_legacy(keys: KeyRepository, records: list[dict[str, Any]]) -> dict[str, int]:
    """Keys from the incubators and notifications databases, kept with their ids and hashes
    so that keys issued before this service keep working; a key id known here is left."""
    imported = 0
    for record in records:
        loaded = LegacyKey().load(record)
        imported += keys.add(
            {
                "key_id": loaded["key_id"],
                **legacy_owner(loaded["owner"]),
                "hash": loaded["hash"],
                "created_at": loaded["created_at"] or clock.now(),
                "revoked_at": loaded["revoked_at"],
            }
        )
    return {"imported": imported, "known": len(records) - imported}
