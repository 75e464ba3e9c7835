from collections import Counter

from services.incubators.progress import DEFAULT_TARGETS, progress
from services.registry.records import progress_facts
from tests.support.snapshots import firm


def test_facts_from_a_snapshot():
    facts = progress_facts(
        firm(reports={2022: {"high_tech_certified": True}, 2023: {"tech_sme_registered": True}})
    )
    assert facts == {"latest_year": 2023, "tech_sme_registered": True, "high_tech_years": [2022]}
    assert progress_facts(firm(years=range(0)))["latest_year"] is None


def test_progress_against_the_targets():
    report = progress(
        175,
        12_000,
        10_500,
        Counter({2023: 110, 2022: 100}),
        Counter({2023: 900, 2022: 50}),
        DEFAULT_TARGETS,
    )
    assert report["carriers"] == {"actual": 175, "target": 350, "ratio": 0.5}
    assert report["incubated_firms"]["ratio"] == 1.2
    assert report["tech_smes_registered"]["ratio"] == 0.5
    assert report["high_tech_growth"] == {
        "year": 2023,
        "certified": 110,
        "previous": 100,
        "growth": 0.1,
        "target": 0.1,
        "met": True,
    }


def test_no_data_is_not_progress():
    growth = progress(0, 0, 0, Counter(), Counter(), DEFAULT_TARGETS)["high_tech_growth"]
    assert growth["met"] is False and growth["growth"] is None


def test_growth_is_met_exactly_not_after_rounding():
    """2,001 → 2,201 firms is 9.995 % growth: shown as 0.1 (rounded), but short of 10 %."""
    short = progress(
        0, 0, 0, Counter({2024: 2201, 2023: 2001}), Counter({2024: 1}), DEFAULT_TARGETS
    )
    assert short["high_tech_growth"]["growth"] == 0.1 and short["high_tech_growth"]["met"] is False
    exactly = progress(
        0, 0, 0, Counter({2024: 2200, 2023: 2000}), Counter({2024: 1}), DEFAULT_TARGETS
    )
    assert exactly["high_tech_growth"]["met"] is True
