import os

import pytest

from services.incubators.rules import parse_rules
from services.incubators.storage import BUNDLED_RULES
from services.tiering.rules.ruleset import InvalidRuleSet, parse_ruleset
from services.tiering.storage import BUNDLED_RULESETS
from shared.config import load_service_config

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
    paths = sorted(BUNDLED_RULESETS.glob("*.yaml"))
    assert [p.stem for p in paths] == ["jl-2025", "sd-wh-2025"]
    for path in paths:
        assert parse_ruleset(path.read_text(encoding="utf-8")).tiers


def test_bundled_rule_sets_and_configs_are_found_from_any_working_directory(tmp_path, monkeypatch):
    """`nameko run` and the tests may start anywhere: files are found beside the code."""
    monkeypatch.chdir(tmp_path)
    assert os.listdir(".") == []
    assert parse_ruleset((BUNDLED_RULESETS / "jl-2025.yaml").read_text(encoding="utf-8")).tiers
    assert parse_rules((BUNDLED_RULES / "jl-incubators-2025.yaml").read_text(encoding="utf-8"))
    assert load_service_config("tiering")["LOGGING"]  # its own file, and the common one


def test_a_minimal_rule_set_with_any_tier_codes():
    rules = parse_ruleset(VALID)
    assert [t.code for t in rules.tiers] == ["gold"] and rules.gates.members == ()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("measure: age", "measure: shoe_size"), "tiers.0.all.0.measure"),
        (("op: le", "op: about"), "tiers.0.all.0.op"),
        (("{name: young, measure: age, op: le", "{measure: age, op: [le]"), "tiers.0.all.0.op"),
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
