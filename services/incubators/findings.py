"""Policy checks whose breaches are *findings*: shown and alerted on, never a reason to lose data
(docs/domain.md "Incubators"). Plain functions, no I/O.

Findings describe the data as it stands: each is a pure function of a firm's life-cycle facts
and registry facts, or of a carrier's registration, yearly report and incubations, under an
incubator rule set (rules.py). The service raises those that appear and withdraws those that
no longer hold. Money and ratios are compared exactly (fractions of the decimal text), and only
shown rounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from services.incubators.lifecycle import Derived, Fact, Incubation, incubation_id, overlapping
from services.incubators.rules import IncubatorRules
from shared.domain.dates import add_months

Finding = dict[str, Any]


def exact(number: Any) -> Fraction:
    """A JSON number as the exact fraction its decimal text says."""
    return Fraction(repr(number)) if isinstance(number, float) else Fraction(number)


def shown(value: Fraction | int) -> str:
    """A number for people: whole numbers with separators, others to two decimals."""
    value = Fraction(value)
    return f"{int(value):,}" if value.denominator == 1 else f"{float(value):,.2f}"


def finding(
    finding_id: str, kind: str, incubator_id: str, uscc: str | None, detail: str
) -> Finding:
    return {
        "finding_id": finding_id,
        "kind": kind,
        "incubator_id": incubator_id,
        "uscc": uscc,
        "detail": detail,
    }


# firms -------------------------------------------------------------------------------------


def firm_findings(
    rules: IncubatorRules,
    uscc: str,
    derived: Derived,
    registry: dict[str, Any] | None,
    today: date,
) -> list[Finding]:
    """Every finding a firm's life cycle gives now (`registry`: its registry facts, or None
    before the registry has told us of it: checks that need them wait)."""
    found: list[Finding | None] = []
    founded_on = ((registry or {}).get("profile") or {}).get("founded_on")
    for incubation in derived.incubations:
        found.append(overdue(rules, incubation, today))
        if founded_on is not None:
            found.append(late_admission(rules, incubation, founded_on))
        if incubation["state"] == "graduated" and registry is not None:
            found.append(unsupported_graduation(rules, incubation, registry))
    found += [before_founding(uscc, admission, founded_on) for admission in derived.void]
    found += [overlap(first, second) for first, second in overlapping(derived.incubations)]
    found += [unpaired_end(uscc, end, derived.incubations) for end in derived.held]
    return [f for f in found if f is not None]


def late_admission(
    rules: IncubatorRules, incubation: Incubation, founded_on: str
) -> Finding | None:
    """Admission more than the admission window (24 months) after the firm was founded."""
    window = rules.admission_window_months
    latest = add_months(date.fromisoformat(founded_on), window)
    if incubation["admitted_on"] <= latest.isoformat():
        return None
    return finding(
        f"late_admission:{incubation['incubation_id']}",
        "late_admission",
        incubation["incubator_id"],
        incubation["uscc"],
        f"admitted on {incubation['admitted_on']}, more than {window} months after founding on "
        f"{founded_on}",
    )


def before_founding(uscc: str, admission: Fact, founded_on: str | None) -> Finding:
    """An admission accepted before the founding date was known (or before it was corrected)
    that the founding date now contradicts: void, it counts nowhere (lifecycle.derive)."""
    return finding(
        f"admitted_before_founding:{incubation_id(uscc, admission)}",
        "admitted_before_founding",
        admission["incubator_id"],
        uscc,
        f"admitted on {admission['admitted_on']}, before the firm was founded on {founded_on}: "
        "the admission counts nowhere",
    )


def overdue(rules: IncubatorRules, incubation: Incubation, today: date) -> Finding | None:
    """An incubation beyond its limit (48 months, 60 on the long tracks): an open one as of
    today, an ended one as of its end."""
    months, ended_on = rules.limit_for(incubation.get("track")), incubation["ended_on"]
    due = add_months(date.fromisoformat(incubation["admitted_on"]), months)
    if (date.fromisoformat(ended_on) if ended_on else today) <= due:
        return None
    admitted_on = incubation["admitted_on"]
    span = f"from {admitted_on} to {ended_on}" if ended_on else f"since {admitted_on}"
    return finding(
        f"overdue:{incubation['incubation_id']}",
        "incubation_overdue",
        incubation["incubator_id"],
        incubation["uscc"],
        f"incubated {span}: beyond {months} months (due {due.isoformat()})",
    )


def overlap(first: Incubation, second: Incubation) -> Finding:
    """Two incubations whose spans meet as the facts stand: one carrier at a time, so an end is
    missing or wrong (it goes when the end that separates them arrives)."""
    until = f"until {first['ended_on']}" if first["ended_on"] else "with no end reported"
    return finding(
        f"overlap:{first['incubation_id']}|{second['incubation_id']}",
        "incubations_overlap",
        first["incubator_id"],
        first["uscc"],
        f"admitted at {second['incubator_id']} on {second['admitted_on']} while incubated at "
        f"{first['incubator_id']} since {first['admitted_on']} {until}",
    )


def unpaired_end(uscc: str, end: Fact, incubations: list[Incubation]) -> Finding:
    """An end that no admission at its carrier takes: its admission has not arrived (or the
    end is wrong). It goes when the admission arrives."""
    here = [i for i in incubations if i["incubator_id"] == end["incubator_id"]]
    known = ", ".join(f"{i['admitted_on']} ({i['state']})" for i in here) or "none"
    return finding(
        f"unpaired_end:{end['key']}",
        "end_without_admission",
        end["incubator_id"],
        uscc,
        f"{end['state']} on {end['ended_on']}, but no admission at {end['incubator_id']} it can "
        f"end is known (admissions there: {known})",
    )


def basis_supported(
    rules: IncubatorRules, basis: str, graduated_on: str, registry: dict[str, Any]
) -> str | None:
    """None when the registry data supports the graduation basis, else what is missing."""
    year = int(graduated_on[:4])
    reports = {r["year"]: r for r in registry.get("annual_reports", []) if r["year"] <= year}
    if basis == "high_tech":
        valid = range(year - rules.certificate_years + 1, year + 1)
        if any(reports.get(y, {}).get("high_tech_certified") for y in valid):
            return None
        return f"no high-tech certificate reported for {valid.start}..{year}"
    if basis == "investment":
        total = sum(
            (
                exact(r["amount"]) * (rules.usd_cny if r["currency"] == "USD" else 1)
                for r in registry.get("funding_rounds", [])
                if r["date"] <= graduated_on
            ),
            Fraction(0),
        )
        if total > rules.investment_above:
            return None
        return (
            f"cumulative funding {shown(total)} yuan is not above {shown(rules.investment_above)}"
        )
    if basis == "revenue":
        floor = rules.two_year_revenue_above
        if any(
            y - 1 in reports and exact(r["revenue"]) + exact(reports[y - 1]["revenue"]) > floor
            for y, r in reports.items()
        ):
            return None
        return f"no two consecutive years with revenue above {shown(floor)} in total"
    listing = (registry.get("status") or {}).get("listing", "unlisted")
    if listing in rules.listings:
        return None
    return f"not listed ({listing}; an acquisition or merger is not in the registry data)"


def unsupported_graduation(
    rules: IncubatorRules, incubation: Incubation, registry: dict[str, Any]
) -> Finding | None:
    missing = basis_supported(rules, incubation["basis"], incubation["ended_on"], registry)
    if missing is None:
        return None
    return finding(
        f"graduation_basis:{incubation['incubation_id']}",
        "graduation_unsupported",
        incubation["incubator_id"],
        incubation["uscc"],
        f"graduated on {incubation['ended_on']} on basis {incubation['basis']!r}, but {missing}",
    )


# carriers ----------------------------------------------------------------------------------


def counts_at(incubations: list[dict[str, Any]], day: str) -> dict[str, int]:
    """A carrier's incubatees at the end of `day`, and its graduates by then."""
    return {
        "current": sum(
            1
            for i in incubations
            if i["admitted_on"] <= day and (i["ended_on"] is None or i["ended_on"] > day)
        ),
        "graduated": sum(
            1 for i in incubations if i["state"] == "graduated" and i["ended_on"] <= day
        ),
    }


def national_shortfalls(
    rules: IncubatorRules,
    carrier: dict[str, Any],
    report: dict[str, Any],
    incubations: list[dict[str, Any]],
) -> list[Finding]:
    """A national-grade carrier's yearly report against the national thresholds (20% lower in
    remote areas), with its incubatees and graduates as of the end of that year."""
    national = rules.national
    if carrier.get("grade") not in national.grades:
        return []
    factor = 1 - national.remote_reduction if national.remote(carrier) else Fraction(1)
    counts = counts_at(incubations, f"{report['year']}-12-31")
    current, graduates = counts["current"], counts["graduated"]
    area, used = exact(report["area_m2"]), exact(report["incubatee_area_m2"])
    fund = exact(report["fund"])
    need = {k: getattr(national, k) * factor for k in NEEDS}
    ip = report["incubatees_with_ip"]
    patents = report.get("incubatees_with_patent_applications")
    checks = [
        (
            "area",
            area >= need["area_m2"],
            f"area {shown(area)} m² below {shown(need['area_m2'])} m²",
        ),
        (
            "incubatee_area",
            area > 0 and used / area >= need["incubatee_area_share"],
            f"incubatees use {share(used, area)} of the area, below "
            f"{percent(need['incubatee_area_share'])}",
        ),
        ("fund", fund >= need["fund"], f"fund {shown(fund)} below {shown(need['fund'])}"),
        (
            "incubatees",
            current >= need["incubatees"],
            f"{current} incubatees at the year's end, below {shown(need['incubatees'])}",
        ),
        (
            "density",
            area > 0 and Fraction(current * 1000) / area >= need["incubatees_per_1000_m2"],
            f"fewer than {shown(need['incubatees_per_1000_m2'])} incubatees per 1,000 m²",
        ),
        (
            "graduates",
            graduates >= need["graduates"],
            f"{graduates} graduates by the year's end, below {shown(need['graduates'])}",
        ),
        (
            "staff",
            report["staff"] * national.incubatees_per_staff >= current * factor,
            f"{report['staff']} staff for {current} incubatees: fewer than one per "
            f"{shown(national.incubatees_per_staff)}",
        ),
        (
            "mentors",
            report["mentors"] * national.incubatees_per_mentor >= current * factor,
            f"{report['mentors']} mentors for {current} incubatees: fewer than one per "
            f"{shown(national.incubatees_per_mentor)}",
        ),
        (
            "ip",
            current > 0
            and (
                (
                    patents is not None
                    and Fraction(patents, current) >= need["patent_applications_share"]
                )
                or Fraction(ip, current) >= need["valid_ip_share"]
            ),
            f"valid IP at {share(ip, current)} of incubatees, below "
            f"{percent(need['valid_ip_share'])}"
            + (
                f", patent applications at {share(patents, current)}, below "
                f"{percent(need['patent_applications_share'])}"
                if patents is not None
                else ""
            ),
        ),
    ]
    where = "remote area, thresholds 20% lower; " if factor != 1 else ""
    return [
        finding(
            f"national:{carrier['incubator_id']}:{report['year']}:{name}",
            "national_threshold",
            carrier["incubator_id"],
            None,
            f"{report['year']} report: {where}{message}",
        )
        for name, passed, message in checks
        if not passed
    ]


NEEDS = (
    "area_m2",
    "incubatee_area_share",
    "fund",
    "incubatees",
    "incubatees_per_1000_m2",
    "graduates",
    "patent_applications_share",
    "valid_ip_share",
)


def share(part: Any, whole: Any) -> str:
    return "—" if not whole else percent(Fraction(exact(part)) / exact(whole))


def percent(value: Fraction) -> str:
    return f"{float(value) * 100:.1f}%"


# raising and withdrawing ------------------------------------------------------------------

RESOLUTIONS = {
    "late_admission": "the founding date now puts the admission within the window",
    "admitted_before_founding": "the founding date no longer follows the admission",
    "incubation_overdue": "the incubation now ends within its limit",
    "graduation_unsupported": "the registry data now supports the basis",
    "incubations_overlap": "the incubations no longer overlap",
    "end_without_admission": "its admission has arrived",
    "national_threshold": "the figures now meet the threshold",
}


@dataclass(frozen=True)
class Change:
    """One finding to store: new (the whole `document`), or the `fields` of a stored one to
    set, guarded by the revision it had (`entry` added to its history)."""

    document: dict[str, Any]
    new: bool
    fields: dict[str, Any]
    previous_revision: int = 0
    entry: dict[str, Any] | None = None

    @property
    def announce(self) -> bool:
        """A change of state (raised, withdrawn, raised again) is announced to the unit."""
        return self.new or "status" in self.fields


def reconcile(
    candidates: set[str],
    current: list[Finding],
    stored: dict[str, dict[str, Any]],
    units: dict[str, str | None],
    ruleset: str,
    now: datetime,
) -> list[Change]:
    """What to store so that the findings among `candidates` (every id the subjects could
    have) are exactly `current`: new ones raised, stored ones that no longer hold withdrawn
    with why, withdrawn ones that hold again raised again; each names the rule set."""
    changes = []
    holding = {f["finding_id"]: f for f in current}
    for finding_id, found in holding.items():
        held = stored.get(finding_id)
        if held is None:
            document = {
                **found,
                "unit": units.get(found["incubator_id"]),
                "status": "open",
                "at": now,
                "resolved_at": None,
                "resolution": None,
                "ruleset": ruleset,
                "revision": 1,
                "announced_revision": 0,
                "history": [
                    {"at": now, "status": "open", "detail": found["detail"], "ruleset": ruleset}
                ],
            }
            changes.append(Change(document, True, document))
        elif held["status"] == "resolved":
            fields = {
                "status": "open",
                "at": now,
                "detail": found["detail"],
                "resolved_at": None,
                "resolution": None,
                "ruleset": ruleset,
                "revision": held["revision"] + 1,
            }
            entry = {"at": now, "status": "open", "detail": found["detail"], "ruleset": ruleset}
            changes.append(Change({**held, **fields}, False, fields, held["revision"], entry))
        elif (held["detail"], held.get("ruleset")) != (found["detail"], ruleset):
            fields = {"detail": found["detail"], "ruleset": ruleset}
            changes.append(Change({**held, **fields}, False, fields, held["revision"]))
    for finding_id in sorted(candidates - set(holding)):
        held = stored.get(finding_id)
        if held is None or held["status"] == "resolved":
            continue
        why = f"{RESOLUTIONS.get(held['kind'], 'it no longer holds')} ({ruleset})"
        fields = {
            "status": "resolved",
            "resolved_at": now,
            "resolution": why,
            "ruleset": ruleset,
            "revision": held["revision"] + 1,
        }
        entry = {"at": now, "status": "resolved", "why": why, "ruleset": ruleset}
        changes.append(Change({**held, **fields}, False, fields, held["revision"], entry))
    return changes


def candidates_of_firm(uscc: str, facts: dict[str, list[Fact]]) -> set[str]:
    """Every id a firm's findings could have: what `firm_findings` makes, for any data."""
    ids = set()
    # every admission, void ones included: an incubation can become void (and back again)
    admitted = sorted({(a["admitted_on"], a["incubator_id"]) for a in facts.get("admissions", [])})
    keys = [f"{carrier}:{uscc}:{day}" for day, carrier in admitted]
    for key in keys:
        ids |= {
            f"late_admission:{key}",
            f"admitted_before_founding:{key}",
            f"overdue:{key}",
            f"graduation_basis:{key}",
        }
    ids |= {f"overlap:{a}|{b}" for n, a in enumerate(keys) for b in keys[n + 1 :]}
    ids |= {f"unpaired_end:{end['key']}" for end in facts.get("ends", [])}
    return ids


def candidates_of_carrier(incubator_id: str, years: Iterable[int]) -> set[str]:
    return {f"national:{incubator_id}:{year}:{check}" for year in years for check in CHECKS}


CHECKS = (
    "area",
    "incubatee_area",
    "fund",
    "incubatees",
    "density",
    "graduates",
    "staff",
    "mentors",
    "ip",
)
