"""What registry's read entrypoints answer (HTTP for a key's principal, RPC for the portal),
read through the storage methods and `records.snapshot`, so the stored format stays storage's."""

from __future__ import annotations

from typing import Any

from services.registry import records
from services.registry.storage import Enterprises
from shared import scope
from shared.auth import Gate, Principal
from shared.domain.units import PROVINCE
from shared.http import Problem
from shared.pagination import after_cursor, keyset_page

MAX_USCCS = 500


def firm(store: Enterprises, uscc: str) -> dict[str, Any] | None:
    record = store.get(uscc)
    return None if record is None else records.snapshot(record)


def enterprise(store: Enterprises, gate: Gate, principal: Principal, uscc: str) -> dict[str, Any]:
    """`GET /v1/enterprises/{uscc}`: 404 unknown, 403 outside the key's reach."""
    snapshot = firm(store, uscc)
    if snapshot is None:
        raise Problem(404, "Not Found", f"no enterprise {uscc}")
    gate.firm(principal, snapshot["unit"], uscc)
    return snapshot


def enterprises(store: Enterprises, principal: Principal, query: dict[str, Any]) -> dict[str, Any]:
    """`GET /v1/enterprises`: a page of the firms the validated query selects within the key's
    reach, in USCC order, with the cursor of the next page."""
    scoped = scoped_query(principal, query)
    found = store.page(scoped, after_cursor(scoped))
    return keyset_page([records.snapshot(r) for r in found], scoped["limit"])


def scoped_query(principal: Principal, query: dict[str, Any]) -> dict[str, Any]:
    """The list query limited to the key's reach (scope.unit_filter)."""
    unit = scope.unit_filter(principal, query.get("unit"))
    limited = {k: v for k, v in query.items() if k != "unit"}
    return limited if unit in (None, PROVINCE) else {**limited, "unit": unit}


def summaries(store: Enterprises, usccs: list[str]) -> dict[str, dict[str, Any]]:
    """What the portal's tables show of each of up to MAX_USCCS firms, by USCC, read in one
    query."""
    snapshots = (records.snapshot(r) for r in store.read(usccs[:MAX_USCCS]).values())
    return {s["uscc"]: summary(s) for s in snapshots}


def summary(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What the portal's tables show of a firm."""
    profile = snapshot["profile"] or {}
    reports = snapshot["annual_reports"]
    return {
        "uscc": snapshot["uscc"],
        "name": profile.get("name"),
        "industry": profile.get("industry"),
        "founded_on": profile.get("founded_on"),
        "unit": snapshot["unit"],
        "latest_year": reports[-1]["year"] if reports else None,
    }


def founding_dates(store: Enterprises, usccs: list[str]) -> dict[str, str]:
    """The founding date of each of up to MAX_USCCS firms the registry has a profile of."""
    found = store.read(usccs[:MAX_USCCS]).values()
    return {r["uscc"]: r["profile"]["founded_on"] for r in found if r.get("profile")}
