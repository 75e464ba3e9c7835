from datetime import date

import pytest

from services.incubators import findings
from services.incubators.rules import parse_rules
from services.incubators.storage import BUNDLED_RULES
from tests.support.snapshots import firm, funding

RULES = parse_rules((BUNDLED_RULES / "jl-incubators-2025.yaml").read_text(encoding="utf-8"))

INCUBATION = {
    "incubation_id": "A:X:2022-01-10",
    "incubator_id": "A",
    "uscc": "X",
    "admitted_on": "2022-01-10",
    "track": None,
    "state": "open",
    "ended_on": None,
}


@pytest.mark.parametrize(("founded", "late"), [("2020-01-10", False), ("2020-01-09", True)])
def test_admission_within_24_months_of_founding(founded, late):
    assert (findings.late_admission(RULES, INCUBATION, founded) is not None) == late


@pytest.mark.parametrize(
    ("today", "track", "overdue"),
    [
        (date(2026, 1, 10), None, False),
        (date(2026, 1, 11), None, True),
        (date(2027, 1, 11), "biomedicine", True),  # 60 months on the long tracks
        (date(2027, 1, 10), "ic_design", False),
    ],
)
def test_incubation_limits(today, track, overdue):
    incubation = INCUBATION | {"track": track}
    assert (findings.overdue(RULES, incubation, today) is not None) == overdue


@pytest.mark.parametrize(("ended_on", "overdue"), [("2026-01-10", False), ("2026-01-11", True)])
def test_an_ended_incubation_is_judged_as_of_its_end(ended_on, overdue):
    """Posted late, it was never open for the sweep to see; today does not count."""
    ended = INCUBATION | {"state": "graduated", "ended_on": ended_on}
    found = findings.overdue(RULES, ended, date(2030, 1, 1))
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
        ("acquired_or_listed", firm(listing="neeq"), True),  # 挂牌 counts for graduation
        ("acquired_or_listed", firm(listing="unlisted"), False),
    ],
)
def test_graduation_basis_against_registry_data(basis, snapshot, supported):
    found = findings.unsupported_graduation(RULES, GRADUATED | {"basis": basis}, snapshot)
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


def incubations(current, graduated, year_end="2024-12-31"):
    """A carrier's incubations that leave `current` open and `graduated` graduated at the end
    of the report's year (and one that began after it, which counts for neither)."""
    open_ = [{"admitted_on": "2023-05-01", "state": "open", "ended_on": None}] * current
    done = [
        {"admitted_on": "2021-01-01", "state": "graduated", "ended_on": "2024-06-30"}
    ] * graduated
    later = [{"admitted_on": "2025-02-01", "state": "graduated", "ended_on": "2025-03-01"}]
    return open_ + done + later


def shortfalls(report=MEETS, counts=COUNTS, carrier=CARRIER):
    items = incubations(counts["current"], counts["graduated"])
    return {
        f["finding_id"].rsplit(":", 1)[1]
        for f in findings.national_shortfalls(RULES, carrier, report, items)
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


def test_remote_carriers_are_held_to_thresholds_20_percent_lower():
    remote = CARRIER | {"region_code": "222401"}  # 延边
    lower = MEETS | {"area_m2": 8_000, "incubatee_area_m2": 6_000, "fund": 4e6}
    assert shortfalls(lower, {"current": 40, "graduated": 16}, remote) == set()
    assert shortfalls(lower, {"current": 40, "graduated": 16}) == {
        "area",
        "fund",
        "incubatees",
        "graduates",
    }


def test_patent_applications_are_the_alternative_to_valid_ip():
    few_ip = MEETS | {"incubatees_with_ip": 10}
    assert shortfalls(few_ip) == {"ip"}
    assert shortfalls(few_ip | {"incubatees_with_patent_applications": 30}) == set()


def test_a_sum_of_rounds_exactly_at_500_wan_is_not_above_it():
    """These five add up to exactly 5,000,000.00 yuan; in floats, to 5,000,000.000000001."""
    amounts = [995_435.09, 949_491.06, 1_151_592.97, 1_288_723.35, 614_757.53]
    assert sum(amounts) > 5_000_000  # what float arithmetic would have judged
    rounds = [funding("2023-01-01", amount) for amount in amounts]
    found = findings.unsupported_graduation(
        RULES, GRADUATED | {"basis": "investment"}, firm(rounds=rounds)
    )
    assert found is not None and "5,000,000 yuan is not above 5,000,000" in found["detail"]
