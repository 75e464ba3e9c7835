"""What the portal's forms change: signing in, marking alerts read, uploading a carrier's
spreadsheet. Each checks its user's reach before it calls a service (through a Backend)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.portal import sheets
from services.portal.reach import may_sign_in, require_own_carrier
from services.portal.repository import Backend
from services.portal.views import Context, known_unit
from shared import scope

MAX_KEY_LENGTH = 300


class SignInRefused(Exception):
    """The sign-in form again, with why (a wrong key is told only that it is not valid)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def sign_in(calls: Backend, key: str | None) -> dict[str, Any]:
    """The principal of a key that may sign in here (a unit's, an incubator's or an admin's)."""
    key = (key or "").strip()[:MAX_KEY_LENGTH]
    principal = calls.call("auth", "verify", key) if key else None
    if principal is None:
        raise SignInRefused(401, "密钥无效 / The key is not valid.")
    if not may_sign_in(principal):
        raise SignInRefused(403, "此密钥不能登录门户 / This key cannot sign in here.")
    return principal


def mark_read(calls: Backend, principal: Any, unit: str, form: Any) -> int:
    scope.require_own_unit(principal, unit)
    known_unit(unit)
    ids = None if form.get("all") else form.getlist("id")[:100]
    return int(calls.call("notifications", "mark_alerts_read", unit, ids))


def upload(
    calls: Backend, principal: Any, incubator_id: str, file: Any, limits: dict[str, int]
) -> Context:
    """Check the whole file (a form's upload, or None), then submit it as one batch
    (incubators validates and publishes it as POST /v1/events does); a refusal lists every
    error by sheet, row and column."""
    require_own_carrier(principal, incubator_id)
    filename = file.filename if file else ""
    data = file.read(limits["max_bytes"] + 1) if file else b""
    try:
        found = sheets.read_upload(filename, data, limits["max_bytes"], limits["max_rows"])
    except sheets.UploadRefused as exc:
        return {"refused": str(exc)}
    events = sheets.to_events(incubator_id, found, datetime.now().astimezone())
    answer = calls.call("incubators", "submit_events", incubator_id, [e.document for e in events])
    if answer["status"] != 202:
        return {
            "refused": answer["detail"],
            "errors": sheets.located_errors(events, answer.get("errors") or {}),
        }
    return {
        "accepted": len(answer["accepted"]),
        "duplicates": len(answer["duplicates"]),
        "by_sheet": {r.sheet.name: len(r.rows) for r in found},
    }
