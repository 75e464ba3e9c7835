from pathlib import Path

import pytest

from services.tiering.rules.ruleset import InvalidRuleSet, parse_ruleset

VALID = """
id: test-1
version: 1
regions: ["22"]
tiers:
  - code: gold
    rank: 1
    all:
      - {name: young, measure: age, op: le, value: 3}
"""


def errors(text):
    with pytest.raises(InvalidRuleSet) as caught:
        parse_ruleset(text)
    return caught.value.errors


def test_the_repositorys_rule_sets_load():
    for path in Path("services/tiering/rulesets").glob("*.yaml"):
        assert parse_ruleset(path.read_text()).tiers


def test_a_minimal_rule_set_with_any_tier_codes():
    rules = parse_ruleset(VALID)
    assert [t.code for t in rules.tiers] == ["gold"] and rules.gates.members == ()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("measure: age", "measure: shoe_size"), "tiers.0.all.0.measure"),
        (("op: le", "op: about"), "tiers.0.all.0.op"),
        (("value: 3", "value: [3]"), "tiers.0.all.0.value"),
        (
            ("measure: age,", "measure: growth, params: {field: revenue, span: 3},"),
            "tiers.0.all.0.params",
        ),
        (("rank: 1", "rank: 0"), "tiers.0.rank"),
        (("version: 1", "version: one"), "version"),
        (('regions: ["22"]', "regions: 22"), "regions"),
        (("id: test-1", "id: ''"), "id"),
        (("    all:", "    each:"), "tiers.0"),
    ],
)
def test_each_mistake_is_named_by_its_path(change, path):
    assert path in errors(VALID.replace(*change))


def test_malformed_yaml_and_duplicate_ranks():
    assert "_yaml" in errors("id: [unclosed")
    doubled = VALID + "  - code: silver\n    rank: 1\n    all: [{measure: age, op: le, value: 9}]\n"
    assert "ranks must be unique" in errors(doubled)["tiers"]
