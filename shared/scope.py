"""What a principal may read (CONTRACT.md): a unit key its unit's firms, carriers and alerts
(the province key every unit), an incubator key its own carrier and the firms it incubates now,
an admin key everything; a service key (the portal, `tracker report`) reads everything but
administers nothing. Pure functions: each check raises a 403 problem or returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.domain.units import PROVINCE
from shared.http import Problem

Principal = Mapping[str, Any]
READ_ALL_KINDS = ("admin", "service")


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)


def describe(principal: Principal) -> str:
    return f"this key is {principal['kind']} {principal['subject']}'s"


def reads_everything(principal: Principal) -> bool:
    """Admin and service keys, and the province's unit key."""
    kind = principal["kind"]
    return kind in READ_ALL_KINDS or (kind == "unit" and principal["subject"] == PROVINCE)


def unit_in_reach(principal: Principal, unit: str | None) -> bool:
    if reads_everything(principal):
        return True
    return principal["kind"] == "unit" and unit is not None and principal["subject"] == unit


def require_unit(principal: Principal, unit: str | None) -> None:
    if not unit_in_reach(principal, unit):
        raise forbidden(f"{describe(principal)}; unit {unit} is outside its reach")


def unit_filter(principal: Principal, requested: str | None) -> str | None:
    """The unit a list or count is limited to: the one asked for if in reach (220000, the
    province, for keys that read everything); with none asked for, everything (None) for keys
    that read everything, else the key's own unit. Lists by
    unit are for unit keys: a carrier's key reads its carrier (`/v1/incubators/{id}`)."""
    if requested is not None:
        require_unit(principal, requested)
        return requested  # the province (220000) stands for every unit
    if reads_everything(principal):
        return None
    if principal["kind"] == "unit" and requested is None:
        return str(principal["subject"])
    raise forbidden(f"{describe(principal)}; the whole province is outside its reach")


def require_own_unit(principal: Principal, unit: str) -> None:
    """Changing a unit's state (marking its alerts read): its own key or an admin's; the
    province reads every inbox but does not mark another unit's alerts read."""
    own = principal["kind"] == "unit" and principal["subject"] == unit
    if not (own or principal["kind"] == "admin"):
        raise forbidden(f"{describe(principal)}; only unit {unit}'s own key marks its alerts")


def require_everything(principal: Principal) -> None:
    """Province-wide figures: admin, service and province keys."""
    if not reads_everything(principal):
        raise forbidden(f"{describe(principal)}; province-wide figures need the province key")


def require_firm(
    principal: Principal, unit: str | None, uscc: str, incubates: Callable[[str, str], bool]
) -> None:
    """A firm: its unit's key, the carrier incubating it now, or a key that reads everything."""
    if unit_in_reach(principal, unit):
        return
    if principal["kind"] == "incubator" and incubates(str(principal["subject"]), uscc):
        return
    raise forbidden(f"{describe(principal)}; firm {uscc} is outside its reach")


def require_carrier(principal: Principal, incubator_id: str, unit: str | None) -> None:
    """A carrier: its own key, its unit's key, or a key that reads everything."""
    if principal["kind"] == "incubator" and principal["subject"] == incubator_id:
        return
    if unit_in_reach(principal, unit) and principal["kind"] != "incubator":
        return
    raise forbidden(f"{describe(principal)}; carrier {incubator_id} is outside its reach")


def require_admin(principal: Principal) -> None:
    if principal["kind"] != "admin":
        raise forbidden("administration needs an admin key")
