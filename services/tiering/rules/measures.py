"""Derived measures a rule can test, computed from one `enterprise_updated` snapshot.

Numbers are exact `Fraction`s made from the decimal text of each JSON number, so a value that
sits exactly on a boundary (20.0% growth, 2.5% R&D intensity) counts as on it. A measure that
cannot be computed returns `Missing` with the reason, which the explanation shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Missing:
    reason: str


@dataclass(frozen=True)
class Growth:
    """Compound growth from `start` to `end` over `years`; compared exactly, shown as a rate."""

    start: Fraction
    end: Fraction
    years: int

    def bar(self, rate: Fraction) -> Fraction:
        """What `end` must reach for growth at `rate`: start·(1+rate)^years, exactly."""
        return self.start * (1 + rate) ** self.years

    def at_least(self, rate: Fraction) -> bool:
        return self.end >= self.bar(rate)

    def rate(self) -> float:
        return float(self.end / self.start) ** (1 / self.years) - 1


Value = Fraction | bool | str | Growth | Missing


def exact(number: Any) -> Fraction:
    return Fraction(repr(number)) if isinstance(number, float) else Fraction(number)


@dataclass(frozen=True)
class Facts:
    """A snapshot indexed for the measures: reports by year, the evaluation year T, and the
    measures already computed (every tier's gates ask for the same ones)."""

    snapshot: dict[str, Any]
    usd_cny: Fraction
    neeq_counts_as_listed: bool
    computed: dict[tuple[Any, ...], Value] = field(default_factory=dict, compare=False)

    @cached_property
    def reports(self) -> dict[int, dict[str, Any]]:
        return {r["year"]: r for r in self.snapshot.get("annual_reports", [])}

    @cached_property
    def year(self) -> int | None:
        """T: the latest fiscal year with an annual report."""
        return max(self.reports, default=None)

    @property
    def profile(self) -> dict[str, Any] | None:
        return self.snapshot.get("profile")

    def report(self, offset: int) -> dict[str, Any] | Missing:
        if self.year is None:
            return Missing("no annual report")
        wanted = self.year - offset
        return self.reports.get(wanted) or Missing(f"no annual report for {wanted}")

    def cny(self, amount: Any, currency: str) -> Fraction:
        return exact(amount) * (self.usd_cny if currency == "USD" else 1)


Measure = Callable[..., Value]
MEASURES: dict[str, Measure] = {}


def measure(name: str) -> Callable[[Measure], Measure]:
    def register(function: Measure) -> Measure:
        MEASURES[name] = function
        return function

    return register


@measure("region_code")
def region_code(facts: Facts) -> Value:
    return facts.profile["region_code"] if facts.profile else Missing("firm not registered")


@measure("active")
def active(facts: Facts) -> Value:
    return bool(facts.snapshot["status"]["active"])


@measure("credit_blacklisted")
def credit_blacklisted(facts: Facts) -> Value:
    return bool(facts.snapshot["status"]["credit_blacklisted"])


@measure("entity_kind")
def entity_kind(facts: Facts) -> Value:
    return str(facts.snapshot["status"]["entity_kind"])


@measure("listed")
def listed(facts: Facts) -> Value:
    listing = facts.snapshot["status"]["listing"]
    return listing == "listed" or (listing == "neeq" and facts.neeq_counts_as_listed)


@measure("age")
def age(facts: Facts) -> Value:
    if facts.profile is None:
        return Missing("firm not registered: no founding date")
    if facts.year is None:
        return Missing("no annual report: no evaluation year")
    return Fraction(facts.year - int(facts.profile["founded_on"][:4]))


def report_field(field: str) -> Measure:
    def read(facts: Facts, offset: int = 0) -> Value:
        report = facts.report(offset)
        return report if isinstance(report, Missing) else exact(report[field])

    return read


for _field in ("revenue", "rd_expense", "employees", "invention_patents", "other_ip"):
    MEASURES[_field] = report_field(_field)


@measure("flag")
def flag(facts: Facts, field: str, offset: int = 0) -> Value:
    report = facts.report(offset)
    return report if isinstance(report, Missing) else bool(report[field])


@measure("flag_in_window")
def flag_in_window(facts: Facts, field: str, window: int) -> Value:
    """True when any report in T-window+1..T has the flag; reports missing there count as no."""
    if facts.year is None:
        return Missing("no annual report")
    years = range(facts.year - window + 1, facts.year + 1)
    return any(facts.reports.get(y, {}).get(field, False) for y in years)


@measure("growth")
def growth(facts: Facts, field: str, years: int) -> Value:
    end, start = facts.report(0), facts.report(years)
    if isinstance(start, Missing):
        return start
    if isinstance(end, Missing):
        return end
    first = exact(start[field])
    if first <= 0:
        return Missing(f"{field} in {start['year']} is {start[field]}: growth undefined")
    return Growth(first, exact(end[field]), years)


@measure("increased")
def increased(facts: Facts, field: str) -> Value:
    now, before = facts.report(0), facts.report(1)
    if isinstance(before, Missing):
        return before
    if isinstance(now, Missing):
        return now
    return exact(now[field]) > exact(before[field])


@measure("mean_rd_intensity")
def mean_rd_intensity(facts: Facts, window: int) -> Value:
    """Mean of R&D expense / revenue over the years T-window+1..T that have revenue > 0."""
    if facts.year is None:
        return Missing("no annual report")
    ratios = [
        exact(r["rd_expense"]) / exact(r["revenue"])
        for y in range(facts.year - window + 1, facts.year + 1)
        if (r := facts.reports.get(y)) and exact(r["revenue"]) > 0
    ]
    if not ratios:
        return Missing(f"no year in {facts.year - window + 1}..{facts.year} with revenue > 0")
    return sum(ratios, Fraction(0)) / len(ratios)


@measure("largest_round")
def largest_round(facts: Facts, offset: int = 0) -> Value:
    """The largest funding round (in CNY) dated in year T-offset; 0 when there is none."""
    if facts.year is None:
        return Missing("no annual report")
    year = str(facts.year - offset)
    amounts = [
        facts.cny(r["amount"], r["currency"])
        for r in facts.snapshot["funding_rounds"]
        if r["date"].startswith(year)
    ]
    return max(amounts, default=Fraction(0))


@measure("latest_valuation_usd")
def latest_valuation_usd(facts: Facts) -> Value:
    valued = [r for r in facts.snapshot["funding_rounds"] if r.get("post_money_valuation")]
    if not valued:
        return Missing("no funding round with a post-money valuation")
    latest = max(valued, key=lambda r: (r["date"], r["round_id"]))
    if latest["currency"] == "USD":
        return exact(latest["post_money_valuation"])
    return exact(latest["post_money_valuation"]) / facts.usd_cny


@measure("funding_rounds")
def funding_rounds(facts: Facts) -> Value:
    return Fraction(len(facts.snapshot["funding_rounds"]))
