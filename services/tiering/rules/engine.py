"""Evaluating a snapshot under a rule set: the tier, and every check that decided it."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

from services.tiering.rules.measures import MEASURES, Facts, Growth, Missing, Value
from services.tiering.rules.ruleset import OP_SYMBOLS, Bands, Condition, Group, RuleSet, Tier

NONE_TIER = "none"
NONE_LABEL = "无"
NEAR_MISS = Fraction(1, 10)  # within 10% of a threshold


@dataclass(frozen=True)
class Check:
    tier: str
    condition: str
    required: str
    actual: Any
    passed: bool
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "tier": self.tier,
            "condition": self.condition,
            "required": self.required,
            "actual": self.actual,
            "passed": self.passed,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Decision:
    tier: str
    label: str
    rank: int
    ruleset: str
    evaluated_year: int | None
    checks: tuple[Check, ...]
    # Each tier's evaluation, so that `watch` reuses the next tier's instead of redoing it.
    runs: dict[str, _Evaluation] = field(default_factory=dict, compare=False, repr=False)

    def failed(self, tier: str) -> list[Check]:
        return [c for c in self.checks if c.tier == tier and not c.passed]

    def summary(self, next_tier: str | None = None) -> str:
        """One line on why: what the tier met, or what the next tier up missed."""
        if self.tier != NONE_TIER:
            held = [
                c.condition
                for c in self.checks
                if c.tier == self.tier and c.passed and not c.condition.startswith("gate: ")
            ]
            return f"{self.label}: " + "; ".join(held[:6])
        missed = [c.condition for c in self.checks if c.tier == next_tier and not c.passed]
        return f"no tier; {next_tier} missed: " + "; ".join(missed[:6]) if missed else "no tier"


@dataclass
class _Evaluation:
    facts: Facts
    tier: str
    checks: list[Check] = field(default_factory=list)
    near_misses: list[Check] = field(default_factory=list)
    assume: frozenset[str] = frozenset()
    passed: bool = False


def measured(facts: Facts, name: str, params: dict[str, Any]) -> Value:
    key = (name, *sorted(params.items()))
    if key not in facts.computed:
        facts.computed[key] = MEASURES[name](facts, **params)
    return facts.computed[key]


def threshold_of(condition: Condition, facts: Facts) -> tuple[Fraction | bool | str | None, str]:
    """The required value, and how to show it (banded thresholds name their band)."""
    symbol = OP_SYMBOLS[condition.op]
    if not isinstance(condition.value, Bands):
        return condition.value, f"{symbol} {show(condition.value)}"
    bands = condition.value
    x = measured(facts, bands.measure, bands.params)
    if isinstance(x, Missing):
        return None, f"{symbol} (band by {bands.measure}: {x.reason})"
    for band in bands.bands:
        if isinstance(x, Fraction) and band.holds(x):
            span = (
                f"{show(band.lower) if band.lower is not None else ''}.."
                f"{show(band.below) if band.below is not None else ''}"
            )
            return band.value, f"{symbol} {show(band.value)} ({bands.measure} band {span})"
    return None, f"{symbol} (no band for {bands.measure} {show(x)})"


def show(value: Any) -> Any:
    if isinstance(value, Growth):
        return round(value.rate(), 6)
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else round(float(value), 6)
    return value


@lru_cache(maxsize=1024)
def as_fraction(value: Any) -> Fraction:
    """A threshold as an exact fraction (thresholds are few and repeat for every firm)."""
    return Fraction(value)


def compare(actual: Value, op: str, required: Any) -> bool:
    if isinstance(actual, Growth):
        bar = actual.bar(as_fraction(required))
        reached, exactly = actual.end >= bar, actual.end == bar
        return {
            "ge": reached,
            "gt": reached and not exactly,
            "le": not reached or exactly,
            "lt": not reached,
            "eq": exactly,
        }[op]
    if op == "startswith":
        return isinstance(actual, str) and actual.startswith(str(required))
    if op == "eq":
        if isinstance(actual, bool) or isinstance(required, bool):
            return isinstance(actual, bool) and isinstance(required, bool) and actual == required
        return actual == required
    if isinstance(actual, bool | str) or isinstance(required, bool | str):
        return False
    return {
        "ge": actual >= required,
        "gt": actual > required,
        "le": actual <= required,
        "lt": actual < required,
    }[op]


def near(actual: Value, op: str, required: Any) -> bool:
    """A failed lower bound (≥, >) within 10% of its threshold; growth compares rates.
    Upper bounds (age ≤ 10) are not watched: firms grow out of them, not into them."""
    if op not in ("ge", "gt") or isinstance(required, bool | str) or required is None:
        return False
    floor = near_floor(required)
    if isinstance(actual, Growth):
        return actual.at_least(floor)
    return isinstance(actual, Fraction) and actual >= floor


@lru_cache(maxsize=1024)
def near_floor(required: Any) -> Fraction:
    return as_fraction(required) * (1 - NEAR_MISS)


def check(run: _Evaluation, condition: Condition, label: str) -> bool:
    actual = measured(run.facts, condition.measure, condition.params)
    required, shown = threshold_of(condition, run.facts)
    if isinstance(actual, Missing):
        result = Check(run.tier, label, shown, None, False, actual.reason)
    elif required is None:
        result = Check(run.tier, label, shown, show(actual), False, "no threshold applies")
    else:
        result = Check(
            run.tier, label, shown, show(actual), compare(actual, condition.op, required)
        )
        if not result.passed and near(actual, condition.op, required):
            run.near_misses.append(result)
    run.checks.append(result)
    return result.passed or label in run.assume


def holds(run: _Evaluation, node: Condition | Group, prefix: str = "") -> bool:
    """Evaluates every member (no short cut), so the explanation shows each condition."""
    if isinstance(node, Condition):
        return check(run, node, prefix + node.name)
    results = [
        holds(
            run,
            member,
            prefix + (f"{member.name}: " if isinstance(member, Group) and member.name else ""),
        )
        for member in node.members
    ]
    return all(results) if node.mode == "all" else any(results)


def evaluate_tier(
    ruleset: RuleSet, tier: Tier, facts: Facts, assume: frozenset[str] = frozenset()
) -> _Evaluation:
    run = _Evaluation(facts, tier.code, assume=assume)
    gates = holds(run, ruleset.gates, "gate: ")
    requirement = holds(run, tier.requirement)
    run.passed = gates and requirement
    return run


def facts_for(ruleset: RuleSet, snapshot: dict[str, Any]) -> Facts:
    return Facts(snapshot, ruleset.usd_cny, ruleset.neeq_counts_as_listed)


def evaluate(ruleset: RuleSet, snapshot: dict[str, Any], facts: Facts | None = None) -> Decision:
    """The highest-ranked tier whose gates and conditions all hold, with every check made.
    Pass the `facts` of an earlier call on the same snapshot to reuse its measures."""
    facts = facts or facts_for(ruleset, snapshot)
    checks: list[Check] = []
    chosen: Tier | None = None
    runs = {}
    for tier in ruleset.tiers:
        run = runs[tier.code] = evaluate_tier(ruleset, tier, facts)
        checks += run.checks
        if chosen is None and run.passed:
            chosen = tier
    year, checked = facts.year, tuple(checks)
    if chosen is None:
        return Decision(NONE_TIER, NONE_LABEL, 0, ruleset.id, year, checked, runs)
    return Decision(chosen.code, chosen.label, chosen.rank, ruleset.id, year, checked, runs)


def watch(
    ruleset: RuleSet,
    snapshot: dict[str, Any],
    current_rank: int,
    facts: Facts | None = None,
    decision: Decision | None = None,
) -> dict[str, Any] | None:
    """The next tier up, if the firm misses it only by conditions within 10% of their bars
    (pass the `decision` of the same facts to reuse its evaluation of that tier)."""
    target = ruleset.next_above(current_rank)
    if target is None:
        return None
    facts = facts or facts_for(ruleset, snapshot)
    held = decision.runs.get(target.code) if decision is not None else None
    run = held or evaluate_tier(ruleset, target, facts)
    if run.passed or not run.near_misses:
        return None
    assumed = frozenset(c.condition for c in run.near_misses)
    if not evaluate_tier(ruleset, target, facts, assumed).passed:
        return None
    return {
        "next_tier": target.code,
        "next_tier_label": target.label,
        "missing": [c.to_json() for c in run.near_misses],
    }
