"""jl-2025 (DOMAIN.md) at every boundary: equal, just below, just above."""

import pytest

from services.tiering.rules.engine import evaluate
from services.tiering.rules.ruleset import parse_ruleset
from services.tiering.storage import BUNDLED_RULESETS
from tests.support.snapshots import firm, funding, revenue_series

RULES = parse_ruleset((BUNDLED_RULESETS / "jl-2025.yaml").read_text(encoding="utf-8"))
T = 2023


def tier_of(snapshot):
    return evaluate(RULES, snapshot).tier


def unicorn(founded="2015-01-01", valuation=1_000_000_000, currency="USD", **status):
    return firm(founded=founded, rounds=[funding("2023-05-01", 1e8, currency, valuation)], **status)


@pytest.mark.parametrize(
    ("snapshot", "tier"),
    [
        (unicorn(), "unicorn"),  # exactly US$1bn
        (unicorn(valuation=999_999_999), "none"),
        (unicorn(valuation=7_200_000_000, currency="CNY"), "unicorn"),  # 7.2 CNY per USD
        (unicorn(valuation=7_199_999_999, currency="CNY"), "none"),
        (unicorn(founded="2013-12-31"), "unicorn"),  # age 10 (2023 - 2013)
        (unicorn(founded="2012-06-30"), "none"),  # age 11
        (unicorn(listing="neeq"), "unicorn"),  # NEEQ counts as unlisted
        (unicorn(listing="listed"), "none"),
        (unicorn(entity_kind="branch"), "none"),
        (unicorn(credit_blacklisted=True), "none"),
        (unicorn(active=False), "none"),
        (unicorn() | {"profile": unicorn()["profile"] | {"region_code": "210102"}}, "none"),
    ],
)
def test_unicorn(snapshot, tier):
    assert tier_of(snapshot) == tier


def growth_firm(*revenues, founded="2012-01-01", rd_share=0.03, **extra):
    return firm(founded=founded, reports=revenue_series(*revenues, rd_share=rd_share), **extra)


@pytest.mark.parametrize(
    ("revenues", "tier"),
    [
        ((2e7, 2.4e7, 2.88e7, 3.456e7), "gazelle"),  # exactly 20% a year
        ((2e7, 2.4e7, 2.88e7, 3.4559e7), "none"),  # a hair under
        ((1e7, 1.2e7, 1.44e7, 1.728e7), "none"),  # T-3 revenue exactly 1000万: needs >
        ((1.0001e7, 2e7, 3e7, 4e7), "gazelle"),
        ((2e7, 2.4e7, 4e7, 4e7), "none"),  # T not above T-1
    ],
)
def test_gazelle_route_c_revenue_growth(revenues, tier):
    assert tier_of(growth_firm(*revenues)) == tier


@pytest.mark.parametrize(
    ("rd", "tier"),
    [(25_000, "gazelle"), (24_999, "none")],  # 2.5% of 1,000,000 is on the bar
)
def test_gazelle_mean_rd_intensity_boundary(rd, tier):
    reports = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)
    ratios = {year: {"rd_expense": r["revenue"] * rd / 1_000_000} for year, r in reports.items()}
    snapshot = firm(founded="2012-01-01", reports={y: reports[y] | ratios[y] for y in reports})
    assert tier_of(snapshot) == tier


def test_years_without_revenue_are_left_out_of_the_rd_mean():
    reports = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)
    reports[2021] = {"revenue": 0, "rd_expense": 0}
    reports[2020] = {"revenue": 2e7, "rd_expense": 5e5}
    reports[2022]["revenue"] = 2.88e7
    snapshot = firm(founded="2012-01-01", reports=reports)
    decision = evaluate(RULES, snapshot)
    rd = next(c for c in decision.checks if c.tier == "gazelle" and "R&D" in c.condition)
    assert rd.actual == pytest.approx((0.025 + 0.03 + 0.03) / 3, abs=1e-6)


@pytest.mark.parametrize(
    ("founded", "revenue", "tier"),
    [
        ("2018-01-01", 5e8, "gazelle"),  # route A: age 5, revenue 5亿
        ("2017-01-01", 5e8, "none"),  # age 6
        ("2018-01-01", 4.9999e8, "none"),
        ("2013-01-01", 1e9, "gazelle"),  # route B: age 10, 10亿
        ("2012-01-01", 1e9, "none"),
    ],
)
def test_gazelle_routes_a_and_b(founded, revenue, tier):
    reports = {y: {"rd_expense": 150_000} for y in range(2020, 2024)}
    reports[T] = {"revenue": revenue, "rd_expense": revenue * 0.03}
    snapshot = firm(founded=founded, reports=reports)
    assert tier_of(snapshot) == tier


@pytest.mark.parametrize(
    ("employees", "tier"),
    [
        ((101, 130, 170, 222), "gazelle"),  # 101 * 1.3^3 = 221.9 → 222 reaches 30%
        ((100, 130, 169, 220), "none"),  # T-3 must be > 100
        ((101, 130, 222, 222), "none"),  # T not above T-1
    ],
)
def test_gazelle_route_d_employees(employees, tier):
    reports = {
        2020 + i: {"employees": n, "revenue": 1e6, "rd_expense": 3e4}
        for i, n in enumerate(employees)
    }
    assert tier_of(firm(founded="2010-01-01", reports=reports)) == tier


@pytest.mark.parametrize(
    ("round_", "tier"),
    [
        (funding("2023-03-01", 10_000_000), "gazelle"),
        (funding("2023-03-01", 9_999_999), "none"),
        (funding("2023-03-01", 1_388_889, "USD"), "gazelle"),  # 10,000,000.8 yuan
        (funding("2022-12-31", 5e7), "none"),  # not in T
    ],
)
def test_gazelle_route_e_funding(round_, tier):
    snapshot = firm(
        founded="2010-01-01",
        rounds=[round_],
        reports={y: {"rd_expense": 150_000} for y in range(2020, 2024)},
    )
    assert tier_of(snapshot) == tier


def test_gazelle_age_edge_is_twenty():
    series = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)
    assert tier_of(firm(founded="2003-06-01", reports=series)) == "gazelle"
    assert tier_of(firm(founded="2002-06-01", reports=series)) == "none"


def test_a_missing_year_fails_the_route_and_says_which():
    snapshot = growth_firm(2e7, 2.4e7, 2.88e7, 3.456e7, years=range(2021, 2024))
    snapshot["annual_reports"] = [r for r in snapshot["annual_reports"] if r["year"] != 2020]
    decision = evaluate(RULES, snapshot)
    cagr = next(c for c in decision.checks if "3-year revenue CAGR" in c.condition)
    assert (cagr.passed, cagr.actual, cagr.reason) == (False, None, "no annual report for 2020")


def eaglet(**fields):
    base = {"tech_sme_listed": True, "invention_patents": 1}
    return firm(founded="2016-01-01", reports={T: base | fields})


@pytest.mark.parametrize(
    ("snapshot", "tier"),
    [
        (eaglet(), "eaglet"),
        (eaglet(tech_sme_listed=False), "none"),
        (
            firm(
                founded="2016-01-01",
                reports={T - 1: {"tech_sme_listed": True}, T: {"invention_patents": 1}},
            ),
            "eaglet",
        ),
        (
            firm(
                founded="2016-01-01",
                reports={T - 2: {"tech_sme_listed": True}, T: {"invention_patents": 1}},
            ),
            "none",
        ),
        (eaglet(tech_sme_listed=False, high_tech_certified=True, invention_patents=0), "eaglet"),
        (eaglet(invention_patents=0), "none"),
        (eaglet(invention_patents=0, other_ip=2), "eaglet"),
        (eaglet(invention_patents=0, other_ip=1), "none"),
        (
            firm(
                founded="2016-01-01", reports={T - 2: {"award": True}, T: {"tech_sme_listed": True}}
            ),
            "eaglet",
        ),
        (
            firm(
                founded="2016-01-01", reports={T - 3: {"award": True}, T: {"tech_sme_listed": True}}
            ),
            "none",
        ),
        (
            firm(
                founded="2012-01-01", reports={T: {"tech_sme_listed": True, "invention_patents": 1}}
            ),
            "none",
        ),  # age 11
    ],
)
def test_eaglet(snapshot, tier):
    assert tier_of(snapshot) == tier


def test_a_higher_tier_wins_and_every_tier_is_explained():
    snapshot = growth_firm(2e7, 2.4e7, 2.88e7, 3.456e7)
    snapshot["annual_reports"][-1] |= {"tech_sme_listed": True, "invention_patents": 3}
    decision = evaluate(RULES, snapshot)
    assert decision.tier == "gazelle" and decision.evaluated_year == T
    assert {c.tier for c in decision.checks} == {"unicorn", "gazelle", "eaglet"}


def test_the_explanation_names_the_failing_condition():
    decision = evaluate(RULES, unicorn(valuation=9e8))
    failed = [c.condition for c in decision.failed("unicorn")]
    assert failed == ["post-money valuation ≥ US$1bn"]
    assert "unicorn missed: post-money valuation ≥ US$1bn" in decision.summary("unicorn")


def test_no_reports_means_no_tier_with_reasons():
    decision = evaluate(RULES, firm(years=range(0)))
    assert decision.tier == "none" and decision.evaluated_year is None
    age = next(c for c in decision.checks if c.condition == "age ≤ 10")
    assert age.reason == "no annual report: no evaluation year"


def test_an_unregistered_firm_fails_the_gates():
    snapshot = firm() | {"registered": False, "profile": None, "unit": None}
    decision = evaluate(RULES, snapshot)
    gate = next(c for c in decision.checks if c.condition == "gate: registered in Jilin")
    assert decision.tier == "none" and gate.reason == "firm not registered"
