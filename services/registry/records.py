"""The enterprise record: how events become its parts, and how parts become its snapshot.

Pure functions, no I/O. A record holds the profile, the report of each year, each funding round
by id and each status change; every part carries an `order_key` so that the newest fact wins
whatever order events arrive in: `effective date | event time | event id`, compared as text.
Applying events is commutative and idempotent, so any shuffled or repeated stream ends in the
same record.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from shared.domain.units import unit_for
from shared.envelope import CloudEvent

Record = dict[str, Any]
PARTS = ("profile", "reports", "funding", "status_changes")
APPLIED, STALE, AGAIN = "applied", "stale", "again"  # what an event did to its part

STATUS_DEFAULTS = {
    "listing": "unlisted",
    "active": True,
    "credit_blacklisted": False,
    "entity_kind": "independent",
}
PROFILE_FIELDS = ("name", "region_code", "zone", "industry", "founded_on")
REPORT_FIELDS = (
    "year",
    "revenue",
    "rd_expense",
    "employees",
    "invention_patents",
    "other_ip",
    "high_tech_certified",
    "tech_sme_registered",
    "tech_sme_listed",
    "award",
)
FUNDING_FIELDS = ("round_id", "date", "amount", "currency", "post_money_valuation", "investors")


def order_key(event: CloudEvent, effective: date | None = None) -> str:
    """Sortable text: later effective date, then later event time, then event id, wins."""
    return f"{(effective or date.min).isoformat()}|{event.order_key}"


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def registration_part(event: CloudEvent) -> dict[str, Any]:
    """The profile, plus the listing and entity kind it states as of the founding date."""
    data = event.data
    part = {key: iso(data.get(key)) for key in PROFILE_FIELDS}
    part["unit"] = unit_for(data["region_code"], data.get("zone"))
    part["stated"] = {field: data[field] for field in ("listing", "entity_kind")}
    part["stated_key"] = order_key(event, data["founded_on"])
    return part


def event_digest(event: CloudEvent) -> str:
    """A field-name-safe identity of an event (ids may hold '.' or '$')."""
    return hashlib.sha256(f"{event.source}\n{event.id}".encode()).hexdigest()[:24]


def report_part(event: CloudEvent) -> dict[str, Any]:
    return {key: event.data[key] for key in REPORT_FIELDS}


def funding_part(event: CloudEvent) -> dict[str, Any]:
    return {key: iso(event.data.get(key)) for key in FUNDING_FIELDS}


def status_change_part(event: CloudEvent) -> dict[str, Any]:
    return {
        "changes": {field: event.data[field] for field in STATUS_DEFAULTS if field in event.data}
    }


def empty(uscc: str) -> Record:
    """The record of a firm no event has touched yet (version 0: never stored)."""
    return {"uscc": uscc, "version": 0, "reports": {}, "funding": {}, "status_changes": {}}


def part_of(event: CloudEvent) -> tuple[str, str | None, dict[str, Any], str]:
    """Where the event's part goes in the record (a part, and the key within it for parts
    kept by year, round or event), the part, and its order key."""
    data = event.data
    if event.type == "enterprise.registered":
        return "profile", None, registration_part(event), order_key(event)
    if event.type == "enterprise.annual_report":
        return "reports", str(data["year"]), report_part(event), order_key(event)
    if event.type == "enterprise.funding_round":
        return "funding", data["round_id"], funding_part(event), order_key(event)
    key = order_key(event, data["effective_on"])
    return "status_changes", event_digest(event), status_change_part(event), key


def apply(record: Record, event: CloudEvent) -> str:
    """Set the event's part unless a newer one is held: APPLIED, STALE (a newer part is held)
    or AGAIN (this very event was applied before)."""
    name, key, part, new_key = part_of(event)
    holder = record if key is None else record.setdefault(name, {})
    slot = name if key is None else key
    held = (holder.get(slot) or {}).get("order_key")
    if held is not None and held > new_key:
        return STALE
    if held == new_key:
        return AGAIN
    holder[slot] = {**part, "order_key": new_key}
    return APPLIED


def strip(part: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in part.items() if key != "order_key"}


def founding_year(document: dict[str, Any]) -> int | None:
    profile = document.get("profile")
    return int(profile["founded_on"][:4]) if profile else None


def reports_and_conflicts(document: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Reports in year order; those before the founding year are set aside with a reason."""
    founded = founding_year(document)
    reports, conflicts = [], []
    for report in sorted(document.get("reports", {}).values(), key=lambda r: r["year"]):
        if founded is not None and report["year"] < founded:
            conflicts.append(
                {
                    "part": f"annual_report {report['year']}",
                    "reason": f"report year {report['year']} is before the founding year {founded}",
                }
            )
        else:
            reports.append(strip(report))
    return reports, conflicts


def status(document: dict[str, Any]) -> dict[str, Any]:
    """Each status field as its newest statement says: the registration's (as of the founding
    date) or a status change's (as of its effective date)."""
    statements: list[tuple[str, dict[str, Any]]] = []
    profile = document.get("profile")
    if profile is not None:
        statements.append((profile["stated_key"], profile["stated"]))
    statements += [
        (c["order_key"], c["changes"]) for c in document.get("status_changes", {}).values()
    ]
    current = dict(STATUS_DEFAULTS)
    for _, stated in sorted(statements, key=lambda statement: statement[0]):
        current.update(stated)
    return current


def snapshot(document: dict[str, Any]) -> dict[str, Any]:
    """The complete tier input, dispatched as `enterprise_updated`: tiering never calls back."""
    profile = document.get("profile")
    reports, conflicts = reports_and_conflicts(document)
    funding = sorted(
        (strip(r) for r in document.get("funding", {}).values()),
        key=lambda r: (r["date"], r["round_id"]),
    )
    return {
        "uscc": document["uscc"],
        "version": document.get("version", 0),
        "registered": profile is not None,
        "profile": None if profile is None else {key: profile[key] for key in PROFILE_FIELDS},
        "unit": None if profile is None else profile["unit"],
        "status": status(document),
        "annual_reports": reports,
        "funding_rounds": funding,
        "conflicts": conflicts,
    }


def progress_facts(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What the plan's progress counts of a firm (registered technology SME in its latest
    report; the years it held a high-tech certificate), kept beside the record so that counting
    the province reads only these."""
    reports = snapshot.get("annual_reports", [])
    latest = max(reports, key=lambda r: r["year"], default=None)
    return {
        "latest_year": latest["year"] if latest else None,
        "tech_sme_registered": bool(latest and latest["tech_sme_registered"]),
        "high_tech_years": sorted(r["year"] for r in reports if r["high_tech_certified"]),
    }
