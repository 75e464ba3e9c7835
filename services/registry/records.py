"""The enterprise record as stored and served: plain functions, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.units import unit_for


def profile_from_registration(data: dict[str, Any], event_time: datetime) -> dict[str, Any]:
    """The profile fields a registration sets, with dates as ISO strings for storage."""
    return {
        "name": data["name"],
        "region_code": data["region_code"],
        "zone": data.get("zone"),
        "unit": unit_for(data["region_code"], data.get("zone")),
        "industry": data["industry"],
        "founded_on": data["founded_on"].isoformat(),
        "entity_kind": data["entity_kind"],
        "listing": data["listing"],
        "registered_at": event_time,
    }


def public_view(document: dict[str, Any]) -> dict[str, Any]:
    """The record as `GET /v1/enterprises/{uscc}` shows it."""
    profile = document.get("profile")
    return {
        "uscc": document["uscc"],
        "registered": profile is not None,
        "profile": None
        if profile is None
        else {
            key: profile.get(key)
            for key in ("name", "region_code", "zone", "industry", "founded_on", "entity_kind")
        },
        "unit": None if profile is None else profile["unit"],
        "status": {"listing": None if profile is None else profile["listing"]},
        "annual_reports": document.get("annual_reports", []),
        "funding_rounds": document.get("funding_rounds", []),
    }
