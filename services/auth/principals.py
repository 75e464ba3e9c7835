"""Who a key speaks for (its principal) and the key format. Pure functions, no I/O.

A key is `tk_<key id>.<secret>`: the id finds the stored record, the secret proves it. Only the
SHA-256 of the secret is stored (it is 32 random bytes, so a fast hash suffices), and it is
compared in constant time. A principal is `{"kind", "subject", "key_id"}`: a unit (its code, or
the province 220000), an incubator (its id), an administrator, or a service (its name).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, TypedDict

from shared.domain.units import WITH_PROVINCE

PREFIX = "tk_"
KINDS = ("unit", "incubator", "admin", "service")
ADMIN_SUBJECT = "admin"


class Principal(TypedDict):
    kind: str
    subject: str
    key_id: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """(key id, the key as shown once, the hash to store)."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return key_id, f"{PREFIX}{key_id}.{secret}", digest(secret)


def split(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    if not token.startswith(PREFIX) or "." not in token:
        return None
    key_id, _, secret = token[len(PREFIX) :].partition(".")
    return (key_id, secret) if key_id and secret else None


def key_id_of(token: str) -> str:
    """The public part of a key: safe to log, count or rate-limit by."""
    return token.removeprefix(PREFIX).partition(".")[0]


def legacy_owner(owner: str) -> dict[str, str]:
    """The principal of a key stored before the auth service, whose owner was one string:
    `admin`, a unit code, or an incubator id."""
    if owner == ADMIN_SUBJECT:
        return {"kind": "admin", "subject": ADMIN_SUBJECT}
    if owner in WITH_PROVINCE:
        return {"kind": "unit", "subject": owner}
    return {"kind": "incubator", "subject": owner}


def principal(record: dict[str, Any]) -> Principal:
    return {"kind": record["kind"], "subject": record["subject"], "key_id": record["key_id"]}
