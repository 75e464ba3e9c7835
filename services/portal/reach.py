"""Who may sign in and where each principal lands; the page-level checks are shared/scope.py's
(the same as the APIs'). Pure functions."""

from __future__ import annotations

from typing import Any

from shared.domain.units import PROVINCE
from shared.scope import forbidden

SIGN_IN_KINDS = ("unit", "incubator", "admin")


def may_sign_in(principal: dict[str, Any] | None) -> bool:
    return principal is not None and principal["kind"] in SIGN_IN_KINDS


def home(principal: dict[str, Any]) -> str:
    if principal["kind"] == "unit":
        return f"/units/{principal['subject']}"
    if principal["kind"] == "incubator":
        return f"/carriers/{principal['subject']}"
    return f"/units/{PROVINCE}"


def require_own_carrier(principal: dict[str, Any], incubator_id: str) -> None:
    """Uploads: only the carrier's own staff post its events."""
    if not (principal["kind"] == "incubator" and principal["subject"] == incubator_id):
        raise forbidden(
            f"只有载体 {incubator_id} 本身可以上传 / only {incubator_id}'s own key uploads"
        )
