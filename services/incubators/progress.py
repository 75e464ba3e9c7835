"""Progress to the plan's targets (350 carriers, 10,000 incubated firms, 21,000 registered
technology SMEs, high-tech enterprises growing ≥ 10% a year). Plain functions, no I/O."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

DEFAULT_TARGETS = {
    "carriers": 350,
    "incubated_firms": 10_000,
    "tech_smes_registered": 21_000,
    "high_tech_growth": 0.10,
}


def against(actual: int, target: int) -> dict[str, Any]:
    return {
        "actual": actual,
        "target": target,
        "ratio": round(actual / target, 4) if target else None,
    }


def exact_target(target: Any) -> Fraction:
    """A growth target as configured (0.10, "0.10") as the exact fraction its text says."""
    return Fraction(repr(target)) if isinstance(target, float) else Fraction(str(target))


def high_tech_growth(by_year: Counter, latest_years: Counter, target: Any) -> dict[str, Any]:
    """Certified firms in the most commonly latest reported year against the year before. Met
    is decided exactly (now ≥ before × (1 + target)): 2,001 → 2,201 is 9.995 %, short of
    10 %, though it shows as 0.1 rounded."""
    if not latest_years:
        return {
            "year": None,
            "certified": 0,
            "previous": 0,
            "growth": None,
            "target": target,
            "met": False,
        }
    year = latest_years.most_common(1)[0][0]
    now, before = by_year.get(year, 0), by_year.get(year - 1, 0)
    rate = Fraction(now, before) - 1 if before else None
    return {
        "year": year,
        "certified": now,
        "previous": before,
        "growth": None if rate is None else round(float(rate), 4),
        "target": float(target),
        "met": rate is not None and rate >= exact_target(target),
    }


def progress(
    carriers: int,
    incubated: int,
    tech_smes: int,
    by_year: Counter,
    latest_years: Counter,
    targets: dict[str, Any],
) -> dict[str, Any]:
    return {
        "carriers": against(carriers, int(targets["carriers"])),
        "incubated_firms": against(incubated, int(targets["incubated_firms"])),
        "tech_smes_registered": against(tech_smes, int(targets["tech_smes_registered"])),
        "high_tech_growth": high_tech_growth(by_year, latest_years, targets["high_tech_growth"]),
    }
