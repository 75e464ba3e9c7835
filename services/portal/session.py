"""Signed session cookies and CSRF tokens. Pure functions, no I/O.

A session is `base64url(JSON).base64url(HMAC-SHA256)` of `{"kid": key id, "exp": epoch
seconds, "csrf": token}`: it names the key it was opened with, never the key itself, and is
resolved to a principal on each request (so a revoked key ends its sessions too). The CSRF
token of a session goes into every form and must come back with every POST; the sign-in form,
before any session, is protected by a signed token of its own in a short-lived cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

SESSION_COOKIE = "tracker_session"
SIGNIN_COOKIE = "tracker_signin"
SIGNIN_SECONDS = 900


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(secret: bytes, token: str | None, now: float | None = None) -> dict[str, Any] | None:
    """The payload of a token this secret signed and whose `exp` has not passed, else None."""
    if not token or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    expected = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, mac):
        return None
    try:
        payload = json.loads(_unb64(body))
    except ValueError:
        return None
    expires = payload.get("exp") if isinstance(payload, dict) else None
    if not isinstance(expires, int | float) or expires <= (time.time() if now is None else now):
        return None
    return payload


def new_session(secret: bytes, key_id: str, seconds: int) -> str:
    payload = {"kid": key_id, "exp": int(time.time()) + seconds, "csrf": secrets.token_urlsafe(24)}
    return sign(secret, payload)


def new_signin_token(secret: bytes) -> tuple[str, str]:
    """(cookie value, form token) for the sign-in form: the cookie is the signed token."""
    token = secrets.token_urlsafe(24)
    return sign(secret, {"t": token, "exp": int(time.time()) + SIGNIN_SECONDS}), token


def signin_token_matches(secret: bytes, cookie: str | None, form_token: str | None) -> bool:
    payload = unsign(secret, cookie)
    return bool(payload and form_token and hmac.compare_digest(str(payload["t"]), form_token))


def csrf_matches(session: dict[str, Any], form_token: str | None) -> bool:
    return bool(form_token) and hmac.compare_digest(str(session["csrf"]), str(form_token))


def cookie_attributes(max_age: int, secure: bool) -> dict[str, Any]:
    """What every cookie of the portal is set with."""
    return {"max_age": max_age, "httponly": True, "samesite": "Strict", "secure": secure}
