"""Policy checks whose breaches are *findings*: recorded and alerted on, never a reason to
lose data (DOMAIN.md "Incubators"). Plain functions, no I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.incubators.lifecycle import Incubation
from shared.dates import add_months

ADMISSION_WINDOW_MONTHS = 24
INVESTMENT_FLOOR = 5_000_000  # cumulative angel/VC investment must be above 500万
TWO_YEAR_REVENUE_FLOOR = 10_000_000  # two consecutive years above 1000万 in total
DEFAULT_USD_CNY = 7.2
NATIONAL_GRADES = ("national", "national_standard", "national_excellent")

Finding = dict[str, Any]


def finding(finding_id: str, kind: str, subject: dict[str, Any], detail: str) -> Finding:
    return {
        "finding_id": finding_id,
        "kind": kind,
        "incubator_id": subject["incubator_id"],
        "uscc": subject.get("uscc"),
        "detail": detail,
    }


def late_admission(incubation: Incubation, founded_on: str) -> Finding | None:
    """Admission more than 24 months after the firm was founded."""
    latest = add_months(date.fromisoformat(founded_on), ADMISSION_WINDOW_MONTHS)
    if incubation["admitted_on"] <= latest.isoformat():
        return None
    return finding(
        f"late_admission:{incubation['incubation_id']}",
        "late_admission",
        incubation,
        f"admitted on {incubation['admitted_on']}, more than "
        f"{ADMISSION_WINDOW_MONTHS} months after founding on {founded_on}",
    )


def overdue(incubation: Incubation, today: date) -> Finding | None:
    """An incubation beyond its limit (48 months, 60 on the long tracks): an open one as of
    today, an ended one as of its end (the hourly sweep may never have seen it open, e.g. when
    a carrier posts its history late)."""
    months, ended_on = incubation["limit_months"], incubation.get("ended_on")
    due = add_months(date.fromisoformat(incubation["admitted_on"]), months)
    if (date.fromisoformat(ended_on) if ended_on else today) <= due:
        return None
    admitted_on = incubation["admitted_on"]
    span = f"from {admitted_on} to {ended_on}" if ended_on else f"since {admitted_on}"
    return finding(
        f"overdue:{incubation['incubation_id']}",
        "incubation_overdue",
        incubation,
        f"incubated {span}: beyond {months} months (due {due.isoformat()})",
    )


def _cny(round_: dict[str, Any]) -> float:
    return round_["amount"] * (DEFAULT_USD_CNY if round_["currency"] == "USD" else 1)


def basis_supported(basis: str, graduated_on: str, snapshot: dict[str, Any]) -> str | None:
    """None when the registry data supports the graduation basis, else what is missing."""
    year = int(graduated_on[:4])
    reports = {r["year"]: r for r in snapshot.get("annual_reports", []) if r["year"] <= year}
    if basis == "high_tech":
        if any(r["high_tech_certified"] for y, r in reports.items() if y >= year - 3):
            return None
        return f"no valid high-tech certificate in {year - 3}..{year}"
    if basis == "investment":
        total = sum(
            _cny(r) for r in snapshot.get("funding_rounds", []) if r["date"] <= graduated_on
        )
        if total > INVESTMENT_FLOOR:
            return None
        return f"cumulative funding {total:,.0f} yuan is not above {INVESTMENT_FLOOR:,}"
    if basis == "revenue":
        if any(
            y - 1 in reports and r["revenue"] + reports[y - 1]["revenue"] > TWO_YEAR_REVENUE_FLOOR
            for y, r in reports.items()
        ):
            return None
        return f"no two consecutive years with revenue above {TWO_YEAR_REVENUE_FLOOR:,} in total"
    if snapshot.get("status", {}).get("listing") == "listed":
        return None
    return "not listed (an acquisition or merger is not in the registry data)"


def unsupported_graduation(incubation: Incubation, snapshot: dict[str, Any]) -> Finding | None:
    missing = basis_supported(incubation["basis"], incubation["ended_on"], snapshot)
    if missing is None:
        return None
    return finding(
        f"graduation_basis:{incubation['incubation_id']}",
        "graduation_unsupported",
        incubation,
        f"graduated on basis {incubation['basis']!r}, but {missing}",
    )


def national_shortfalls(
    carrier: dict[str, Any], report: dict[str, Any], counts: dict[str, int]
) -> list[Finding]:
    """A national-grade carrier's annual report against the 2018 national thresholds."""
    if carrier.get("grade") not in NATIONAL_GRADES:
        return []
    incubatees, area = counts.get("current", 0), report["area_m2"]
    per_ten = max(incubatees / 10, 1)
    checks = [
        ("area", area >= 10_000, f"area {area:,.0f} m² below 10,000 m²"),
        (
            "incubatee_area",
            area and report["incubatee_area_m2"] / area >= 0.75,
            "incubatees use less than 75% of the area",
        ),
        ("fund", report["fund"] >= 5_000_000, f"fund {report['fund']:,.0f} below 5,000,000"),
        ("incubatees", incubatees >= 50, f"{incubatees} current incubatees, below 50"),
        ("density", area and incubatees / area * 1000 >= 3, "fewer than 3 incubatees per 1,000 m²"),
        (
            "graduates",
            counts.get("graduated", 0) >= 20,
            f"{counts.get('graduated', 0)} graduates, below 20",
        ),
        ("staff", report["staff"] >= per_ten, "fewer than one staff member per 10 incubatees"),
        ("mentors", report["mentors"] >= per_ten, "fewer than one mentor per 10 incubatees"),
        (
            "ip",
            incubatees and report["incubatees_with_ip"] / incubatees >= 0.30,
            "valid IP at fewer than 30% of incubatees",
        ),
    ]
    subject = {"incubator_id": carrier["incubator_id"]}
    return [
        finding(
            f"national:{carrier['incubator_id']}:{report['year']}:{name}",
            "national_threshold",
            subject,
            f"{report['year']} report: {message}",
        )
        for name, passed, message in checks
        if not passed
    ]
