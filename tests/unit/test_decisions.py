from datetime import UTC, datetime, timedelta

from services.tiering.decisions import decide, explained
from services.tiering.rules.engine import evaluate
from services.tiering.rules.ruleset import parse_ruleset
from services.tiering.storage import BUNDLED_RULESETS
from services.tiering.views import tier_view
from tests.support.snapshots import firm, revenue_series

JL_2025 = (BUNDLED_RULESETS / "jl-2025.yaml").read_text(encoding="utf-8")
RULES = parse_ruleset(JL_2025)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
GAZELLE = firm(founded="2012-01-01", reports=revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7))
NOTHING = firm(years=range(0))


def test_a_first_none_is_recorded_without_a_change():
    record, change = decide(None, RULES, NOTHING, NOW)
    assert (record["tier"], record["seq"], change) == ("none", 0, None)


def test_a_move_increments_the_sequence_and_describes_the_change():
    first, _ = decide(None, RULES, NOTHING, NOW)
    record, change = decide(first, RULES, GAZELLE, NOW + timedelta(days=1))
    assert (record["seq"], record["since"]) == (1, NOW + timedelta(days=1))
    assert (change["id"], change["from"], change["to"], change["to_label"]) == (
        f"{GAZELLE['uscc']}:1",
        "none",
        "gazelle",
        "瞪羚",
    )
    assert change["unit"] == "220100" and change["ruleset"] == "jl-2025"
    assert all(c["tier"] == "gazelle" and c["passed"] for c in change["checks"])


def test_the_same_tier_again_keeps_since_and_sequence():
    first, _ = decide(None, RULES, GAZELLE, NOW)
    again, change = decide(first, RULES, GAZELLE | {"version": 2}, NOW + timedelta(days=30))
    assert change is None and again["since"] == NOW and again["seq"] == first["seq"]


def test_the_view_has_exactly_the_contracts_fields():
    record, change = decide(None, RULES, GAZELLE, NOW)
    view = tier_view(explained(record, RULES, lambda: RULES), [change])
    assert list(view) == [
        "uscc",
        "tier",
        "tier_label",
        "ruleset",
        "evaluated_year",
        "since",
        "checks",
        "history",
    ]
    assert view["since"] == NOW.isoformat()
    assert view["history"] == [
        {
            "seq": 1,
            "from": "none",
            "to": "gazelle",
            "ruleset": "jl-2025",
            "evaluated_year": 2023,
            "at": NOW.isoformat(),
        }
    ]


def with_gazelle_bar(bar: str) -> object:
    """jl-2025 version 2 with the gazelle's growth bar (0.20 in version 1) at `bar`."""
    text = JL_2025.replace("\nversion: 1\n", "\nversion: 2\n")
    return parse_ruleset(text.replace("op: ge, value: 0.20}", f"op: ge, value: {bar}}}"))


def checks_under(ruleset):
    return [c.to_json() for c in evaluate(ruleset, GAZELLE).checks]


def test_the_checks_are_not_stored_but_computed_when_read():
    record, _ = decide(None, RULES, GAZELLE, NOW)
    assert "checks" not in record and record["summary"].startswith("瞪羚")
    view = explained(record, RULES, lambda: RULES)
    assert view["checks"] == checks_under(RULES) and view["ruleset_version"] == 1


def test_a_record_a_re_evaluation_left_alone_is_explained_under_the_new_version():
    record, _ = decide(None, RULES, GAZELLE, NOW)
    lower = with_gazelle_bar("0.18")  # the same decision, other thresholds
    view = explained(record, lower, lambda: RULES)
    assert (view["tier"], view["ruleset_version"]) == ("gazelle", 2)
    assert view["checks"] == checks_under(lower) != checks_under(RULES)


def test_a_record_not_re_evaluated_yet_is_explained_under_the_version_that_decided_it():
    record, _ = decide(None, RULES, GAZELLE, NOW)
    higher = with_gazelle_bar("0.30")  # moves the firm under version 2
    view = explained(record, higher, lambda: RULES)
    assert (view["tier"], view["ruleset_version"]) == ("gazelle", 1)
    assert view["checks"] == checks_under(RULES)
