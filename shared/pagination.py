"""Opaque cursors for keyset pagination: clients pass back what they were given."""

from __future__ import annotations

import base64

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
