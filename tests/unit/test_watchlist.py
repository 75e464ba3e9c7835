from services.tiering.rules.engine import evaluate, watch
from services.tiering.rules.ruleset import parse_ruleset
from services.tiering.storage import BUNDLED_RULESETS
from tests.support.snapshots import firm, revenue_series

RULES = parse_ruleset((BUNDLED_RULESETS / "jl-2025.yaml").read_text(encoding="utf-8"))


def grower(rate):
    values = [round(2e7 * (1 + rate) ** i, 2) for i in range(4)]
    return firm(founded="2014-01-01", reports=revenue_series(*values))


def test_a_firm_missing_only_a_near_threshold_is_on_the_watchlist():
    snapshot = grower(0.18)
    snapshot["annual_reports"][-1] |= {"tech_sme_listed": True, "invention_patents": 1}
    decision = evaluate(RULES, snapshot)
    assert decision.tier == "eaglet"
    watched = watch(RULES, snapshot, decision.rank)
    assert watched["next_tier"] == "gazelle"
    assert [c["condition"] for c in watched["missing"]] == [
        "route C: revenue growth: 3-year revenue CAGR ≥ 20%"
    ]
    assert watched["missing"][0]["actual"] == 0.18


def test_far_below_the_bar_is_not_watched():
    snapshot = grower(0.15)
    snapshot["annual_reports"][-1] |= {"tech_sme_listed": True, "invention_patents": 1}
    assert watch(RULES, snapshot, evaluate(RULES, snapshot).rank) is None


def test_the_top_tier_has_nothing_to_watch():
    assert watch(RULES, firm(), 3) is None


def test_upper_bounds_are_not_watched():
    snapshot = grower(0.25)  # would be a gazelle, but...
    snapshot["profile"]["founded_on"] = "2002-01-01"  # age 21 against ≤ 20
    assert watch(RULES, snapshot, evaluate(RULES, snapshot).rank) is None
