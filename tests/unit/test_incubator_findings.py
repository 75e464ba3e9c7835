from datetime import date

import pytest

from services.incubators import findings
from tests.support.snapshots import firm, funding

INCUBATION = {
    "incubation_id": "A:X:2022-01-10",
    "incubator_id": "A",
    "uscc": "X",
    "admitted_on": "2022-01-10",
    "limit_months": 48,
    "state": "open",
}


@pytest.mark.parametrize(("founded", "late"), [("2020-01-10", False), ("2020-01-09", True)])
def test_admission_within_24_months_of_founding(founded, late):
    assert (findings.late_admission(INCUBATION, founded) is not None) == late


@pytest.mark.parametrize(
    ("today", "limit", "overdue"),
    [
        (date(2026, 1, 10), 48, False),
        (date(2026, 1, 11), 48, True),
        (date(2027, 1, 11), 60, True),
        (date(2027, 1, 10), 60, False),
    ],
)
def test_incubation_limits(today, limit, overdue):
    incubation = INCUBATION | {"limit_months": limit}
    assert (findings.overdue(incubation, today) is not None) == overdue


@pytest.mark.parametrize(("ended_on", "overdue"), [("2026-01-10", False), ("2026-01-11", True)])
def test_an_ended_incubation_is_judged_as_of_its_end(ended_on, overdue):
    """Posted late, it was never open for the sweep to see; today does not count."""
    ended = INCUBATION | {"state": "graduated", "ended_on": ended_on}
    found = findings.overdue(ended, date(2030, 1, 1))
    assert (found is not None) == overdue
    if found:
        assert found["detail"] == (
            "incubated from 2022-01-10 to 2026-01-11: beyond 48 months (due 2026-01-10)"
        )


GRADUATED = INCUBATION | {"state": "graduated", "ended_on": "2024-06-30"}


@pytest.mark.parametrize(
    ("basis", "snapshot", "supported"),
    [
        ("high_tech", firm(reports={2023: {"high_tech_certified": True}}), True),
        ("high_tech", firm(), False),
        ("investment", firm(rounds=[funding("2023-01-01", 5_000_001)]), True),
        ("investment", firm(rounds=[funding("2023-01-01", 5_000_000)]), False),  # not above
        ("investment", firm(rounds=[funding("2023-01-01", 700_000, "USD")]), True),
        ("investment", firm(rounds=[funding("2024-07-01", 9e7)]), False),  # after graduating
        ("revenue", firm(reports={2022: {"revenue": 5e6}, 2023: {"revenue": 5_000_001}}), True),
        ("revenue", firm(reports={2022: {"revenue": 5e6}, 2023: {"revenue": 5e6}}), False),
        ("acquired_or_listed", firm(listing="listed"), True),
        ("acquired_or_listed", firm(listing="neeq"), False),
    ],
)
def test_graduation_basis_against_registry_data(basis, snapshot, supported):
    found = findings.unsupported_graduation(GRADUATED | {"basis": basis}, snapshot)
    assert (found is None) == supported


CARRIER = {"incubator_id": "A", "grade": "national"}
MEETS = {
    "year": 2024,
    "area_m2": 12_000,
    "incubatee_area_m2": 9_000,
    "fund": 5e6,
    "staff": 6,
    "mentors": 6,
    "incubatees_with_ip": 18,
}  # 9,000 of 12,000 is exactly 75%
COUNTS = {"current": 60, "graduated": 20}


def shortfalls(report=MEETS, counts=COUNTS, carrier=CARRIER):
    return {
        f["finding_id"].rsplit(":", 1)[1]
        for f in findings.national_shortfalls(carrier, report, counts)
    }


def test_a_report_at_every_national_threshold_has_no_findings():
    assert shortfalls() == set()


@pytest.mark.parametrize(
    ("change", "counts", "expected"),
    [
        ({"area_m2": 9_999, "incubatee_area_m2": 7_500}, COUNTS, {"area"}),
        ({"incubatee_area_m2": 8_999}, COUNTS, {"incubatee_area"}),
        ({"fund": 4_999_999}, COUNTS, {"fund"}),
        ({}, {"current": 49, "graduated": 20}, {"incubatees"}),
        ({}, {"current": 60, "graduated": 19}, {"graduates"}),
        ({"staff": 5, "mentors": 5}, COUNTS, {"staff", "mentors"}),
        ({"incubatees_with_ip": 17}, COUNTS, {"ip"}),
    ],
)
def test_each_national_shortfall_is_a_finding(change, counts, expected):
    assert shortfalls(MEETS | change, counts) == expected


def test_other_grades_are_not_held_to_national_thresholds():
    assert shortfalls(MEETS | {"fund": 0}, carrier=CARRIER | {"grade": "provincial"}) == set()
