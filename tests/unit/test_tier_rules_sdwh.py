"""The second rule set: Shandong-style banded growth and Wuhan-style unicorn sub-tiers."""

import pytest

from services.tiering.rules.engine import evaluate
from services.tiering.rules.ruleset import parse_ruleset
from services.tiering.storage import BUNDLED_RULESETS
from tests.support.snapshots import firm, funding

RULES = parse_ruleset((BUNDLED_RULESETS / "sd-wh-2025.yaml").read_text(encoding="utf-8"))


def two_year(start, end, rd_share=0.04, founded="2012-01-01"):
    reports = {
        2021: {"revenue": start, "rd_expense": start * rd_share},
        2022: {"revenue": (start + end) / 2, "rd_expense": (start + end) / 2 * rd_share},
        2023: {"revenue": end, "rd_expense": end * rd_share},
    }
    return firm(founded=founded, years=range(2021, 2024), reports=reports)


@pytest.mark.parametrize(
    ("start", "end", "tier"),
    [
        (2e7, 3.38e7, "gazelle"),  # band 1000万-5000万: exactly 30% a year (1.3² = 1.69)
        (2e7, 3.37e7, "none"),
        (1e8, 1.44e8, "gazelle"),  # band 5000万-5亿: exactly 20%
        (1e8, 1.43e8, "none"),
        (6e8, 7.26e8, "gazelle"),  # band ≥ 5亿: exactly 10%
        (6e8, 7.25e8, "none"),
        (4e6, 9e6, "none"),  # below 1000万: no band, and the revenue floor fails
    ],
)
def test_gazelle_growth_required_depends_on_the_revenue_band(start, end, tier):
    assert evaluate(RULES, two_year(start, end)).tier == tier


def test_the_band_is_shown_in_the_explanation():
    decision = evaluate(RULES, two_year(1e8, 1.44e8))
    growth = next(c for c in decision.checks if c.tier == "gazelle" and "CAGR" in c.condition)
    assert growth.required == "≥ 0.2 (revenue band 50000000..500000000)"
    assert growth.passed


def valued(usd, founded="2020-01-01", **status):
    return firm(founded=founded, rounds=[funding("2023-01-01", 1e7, "USD", usd)], **status)


@pytest.mark.parametrize(
    ("snapshot", "tier"),
    [
        (valued(1e9, founded="2015-01-01"), "unicorn"),
        (valued(5e8), "potential_unicorn"),
        (valued(4.99e8), "seed_unicorn"),
        (valued(1e8), "seed_unicorn"),
        (valued(0.99e8), "none"),
        (valued(1e8, founded="2017-06-01"), "none"),  # seed needs age ≤ 5
        (valued(1e9, listing="neeq"), "none"),  # here NEEQ counts as listed
    ],
)
def test_wuhan_unicorn_sub_tiers(snapshot, tier):
    assert evaluate(RULES, snapshot).tier == tier


def test_sub_tiers_keep_their_labels():
    decision = evaluate(RULES, valued(6e8))
    assert (decision.label, decision.rank) == ("潜在独角兽", 4)


def test_the_usd_rate_is_the_rule_sets_own():
    cny_round = firm(founded="2020-01-01", rounds=[funding("2023-01-01", 1e7, "CNY", 7.1e8)])
    assert evaluate(RULES, cny_round).tier == "seed_unicorn"  # 7.1亿 CNY = US$1亿 at 7.1
