"""Rule sets: versioned data (YAML) parsed into plain objects, with errors that name the path.

tiers[]: code, label, rank, and `all` / `any` lists of conditions or nested groups
condition: name, measure, params, op, value (a number, a boolean, a text, or bands:
           `{band_by: {measure, params}, bands: [{from, below, value}]}`)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import yaml

from services.tiering.rules.measures import MEASURES
from shared.domain import codes

OPS = ("ge", "gt", "le", "lt", "eq", "startswith")
OP_SYMBOLS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "eq": "=", "startswith": "starts with"}


class InvalidRuleSet(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Band:
    lower: Fraction | None
    below: Fraction | None
    value: Fraction

    def holds(self, x: Fraction) -> bool:
        return (self.lower is None or x >= self.lower) and (self.below is None or x < self.below)


@dataclass(frozen=True)
class Bands:
    measure: str
    params: dict[str, Any]
    bands: tuple[Band, ...]


Threshold = Fraction | bool | str | Bands


@dataclass(frozen=True)
class Condition:
    name: str
    measure: str
    op: str
    value: Threshold
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    name: str
    mode: str  # "all" or "any"
    members: tuple[Condition | Group, ...]


@dataclass(frozen=True)
class Tier:
    code: str
    label: str
    rank: int
    requirement: Group


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: int
    regions: tuple[str, ...]
    title: str
    usd_cny: Fraction
    neeq_counts_as_listed: bool
    gates: Group
    tiers: tuple[Tier, ...]  # highest rank first
    source: str = ""

    def next_above(self, rank: int) -> Tier | None:
        """The lowest-ranked tier above `rank`: the one a firm at `rank` grows into."""
        above = [t for t in self.tiers if t.rank > rank]
        return min(above, key=lambda t: t.rank) if above else None


class _Parser:
    """Walks the document once, collecting every error with its path."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path or "_schema", []).append(message)

    def number(self, value: Any, path: str) -> Fraction | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, "must be a number")
            return None
        return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)

    def text(self, document: dict, key: str, path: str) -> str:
        value = document.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{path}{key}", "required text")
            return ""
        return value

    def params(self, measure: str, params: Any, path: str) -> dict[str, Any]:
        if not isinstance(params, dict):
            self.fail(f"{path}params", "must be a mapping")
            return {}
        try:
            inspect.signature(MEASURES[measure]).bind(None, **params)
        except TypeError as exc:
            self.fail(f"{path}params", f"do not fit measure {measure!r}: {exc}")
        return params

    def measure(self, document: dict, path: str) -> tuple[str, dict[str, Any]]:
        name = document.get("measure")
        if name not in MEASURES:
            self.fail(
                f"{path}measure", f"unknown measure {name!r}; known: {', '.join(sorted(MEASURES))}"
            )
            return "", {}
        return name, self.params(name, document.get("params", {}), path)

    def threshold(self, value: Any, path: str) -> Threshold | None:
        if isinstance(value, dict):
            return self.bands(value, f"{path}.")
        if isinstance(value, bool | str):
            return value
        return self.number(value, path)

    def bands(self, document: dict, path: str) -> Bands | None:
        band_by = document.get("band_by")
        if not isinstance(band_by, dict):
            self.fail(f"{path}band_by", "required: {measure, params}")
            return None
        measure, params = self.measure(band_by, f"{path}band_by.")
        rows = document.get("bands")
        if not isinstance(rows, list) or not rows:
            self.fail(f"{path}bands", "required: a non-empty list of {from, below, value}")
            return None
        bands = []
        for i, row in enumerate(rows):
            where = f"{path}bands.{i}."
            if not isinstance(row, dict):
                self.fail(where.rstrip("."), "must be a mapping")
                continue
            lower = self.number(row["from"], f"{where}from") if "from" in row else None
            below = self.number(row["below"], f"{where}below") if "below" in row else None
            value = self.number(row.get("value"), f"{where}value")
            if value is not None:
                bands.append(Band(lower, below, value))
        return Bands(measure, params, tuple(bands))

    def node(self, document: Any, path: str, name: str = "") -> Condition | Group | None:
        if not isinstance(document, dict):
            self.fail(path, "must be a mapping (a condition or an all/any group)")
            return None
        if "all" in document or "any" in document:
            return self.group(document, path, name)
        where = f"{path}." if path else ""
        measure, params = self.measure(document, where)
        op = document.get("op")
        if op not in OPS:
            self.fail(f"{where}op", f"must be one of {', '.join(OPS)}")
        if "value" not in document:
            self.fail(f"{where}value", "required")
        value = self.threshold(document.get("value"), f"{where}value")
        symbol = OP_SYMBOLS.get(op, op) if isinstance(op, str) else op  # a list is unhashable
        label = document.get("name") or f"{measure} {symbol} {document.get('value')}"
        if not measure or op not in OPS or value is None:
            return None
        return Condition(str(label), measure, op, value, params)

    def group(self, document: dict, path: str, name: str = "") -> Group | None:
        modes = [mode for mode in ("all", "any") if mode in document]
        if len(modes) != 1:
            self.fail(path, "a group has exactly one of all / any")
            return None
        mode = modes[0]
        items = document[mode]
        where = f"{path}.{mode}" if path else mode
        if not isinstance(items, list) or not items:
            self.fail(where, "must be a non-empty list")
            return None
        members = [self.node(item, f"{where}.{i}") for i, item in enumerate(items)]
        return Group(
            str(document.get("name") or name), mode, tuple(m for m in members if m is not None)
        )

    def tiers(self, items: Any) -> list[Tier]:
        if not isinstance(items, list) or not items:
            self.fail("tiers", "required: a non-empty list")
            return []
        tiers = []
        for i, item in enumerate(items):
            path = f"tiers.{i}"
            if not isinstance(item, dict):
                self.fail(path, "must be a mapping")
                continue
            code = self.text(item, "code", f"{path}.")
            rank = item.get("rank")
            if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
                self.fail(f"{path}.rank", "must be a whole number ≥ 1 (0 is `none`)")
            requirement = self.group(item, path, code)
            if code and isinstance(rank, int) and requirement is not None:
                tiers.append(Tier(code, str(item.get("label") or code), rank, requirement))
        codes = [t.code for t in tiers]
        ranks = [t.rank for t in tiers]
        if len(set(codes)) != len(codes) or "none" in codes:
            self.fail("tiers", "tier codes must be unique and not `none`")
        if len(set(ranks)) != len(ranks):
            self.fail("tiers", "ranks must be unique")
        return sorted(tiers, key=lambda t: -t.rank)


def parse_ruleset(text: str) -> RuleSet:
    """A RuleSet from YAML text, or InvalidRuleSet naming every problem by its path."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidRuleSet({"_yaml": [str(exc)]}) from None
    if not isinstance(document, dict):
        raise InvalidRuleSet({"_schema": ["a rule set is a YAML mapping"]})
    parser = _Parser()
    rule_id = parser.text(document, "id", "")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        parser.fail("version", "must be a whole number ≥ 1")
        version = 0  # never used: the errors are raised before the RuleSet is made
    regions = document.get("regions")
    if (
        not isinstance(regions, list)
        or not regions
        or not all(isinstance(r, str) and codes.is_digits(r) for r in regions)
    ):
        parser.fail("regions", 'required: a list of region code prefixes (digits 0-9), e.g. ["22"]')
        regions = []
    usd_cny = parser.number(document.get("usd_cny", 7.2), "usd_cny")
    neeq = document.get("neeq_counts_as_listed", False)
    if not isinstance(neeq, bool):
        parser.fail("neeq_counts_as_listed", "must be true or false")
    gates = (
        parser.group({"all": document.get("gates") or []}, "gates", "gates")
        if document.get("gates")
        else Group("gates", "all", ())
    )
    tiers = parser.tiers(document.get("tiers"))
    if parser.errors:
        raise InvalidRuleSet(parser.errors)
    return RuleSet(
        rule_id,
        version,
        tuple(regions),
        str(document.get("title") or rule_id),
        usd_cny or Fraction(36, 5),
        bool(neeq),
        gates or Group("gates", "all", ()),
        tuple(tiers),
        text,
    )


def applicable_id(
    region_code: str | None,
    active: dict[str, str],
    default_id: str,
    candidate: RuleSet | None = None,
) -> str:
    """The id of the rule set that applies to a firm in `region_code`: the one `active` (rule set
    id by region prefix) for the longest prefix of its code, else the default; with `candidate`,
    as if it were active for its regions too (a simulation)."""
    if candidate is not None:
        active = {**active, **dict.fromkeys(candidate.regions, candidate.id)}
    matches = [prefix for prefix in active if region_code and region_code.startswith(prefix)]
    return active[max(matches, key=len)] if matches else default_id
