"""Opaque cursors for keyset pagination: clients pass back what they were given."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from shared.http import Problem


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        key = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        if key:
            return key.decode()
    except (ValueError, UnicodeDecodeError):  # binascii.Error; non-ASCII text
        pass
    raise Problem(
        400, "Bad Request", "malformed cursor", {"cursor": ["not a cursor this API returned"]}
    )


def after_cursor(query: Mapping[str, Any]) -> str | None:
    """The key a validated query's `cursor` continues after; None for the first page."""
    return decode_cursor(query["cursor"]) if "cursor" in query else None


def keyset_page(items: list[dict[str, Any]], limit: int, key: str = "uscc") -> dict[str, Any]:
    """A page's body: its items, and a cursor after the last one when the page came back full
    (a shorter page is the last one)."""
    full = bool(items) and len(items) == limit
    return {"items": items, "next_cursor": encode_cursor(items[-1][key]) if full else None}
