"""Building `enterprise_updated` snapshots for rule tests: a firm that meets nothing special,
changed only where a test says."""

from __future__ import annotations

from typing import Any


def report(year: int, **fields: Any) -> dict[str, Any]:
    base = {
        "year": year,
        "revenue": 5_000_000,
        "rd_expense": 50_000,
        "employees": 20,
        "invention_patents": 0,
        "other_ip": 0,
        "high_tech_certified": False,
        "tech_sme_registered": False,
        "tech_sme_listed": False,
        "award": False,
    }
    return {**base, **fields}


def firm(
    founded: str = "2018-03-01",
    years: range = range(2020, 2024),
    reports: dict[int, dict[str, Any]] | None = None,
    rounds: list[dict] | None = None,
    region_code: str = "220102",
    **status: Any,
) -> dict[str, Any]:
    """Reports for every year in `years` (overridden per year by `reports`)."""
    by_year = {y: report(y) for y in years}
    for year, fields in (reports or {}).items():
        by_year[year] = {**by_year.get(year, report(year)), **fields}
    return {
        "uscc": "912201020000000000",
        "version": 1,
        "registered": True,
        "unit": "220100",
        "profile": {
            "name": "测试",
            "region_code": region_code,
            "zone": None,
            "industry": "software",
            "founded_on": founded,
        },
        "status": {
            "listing": "unlisted",
            "active": True,
            "credit_blacklisted": False,
            "entity_kind": "independent",
            **status,
        },
        "annual_reports": [by_year[y] for y in sorted(by_year)],
        "funding_rounds": rounds or [],
        "conflicts": [],
    }


def funding(
    date: str,
    amount: float,
    currency: str = "CNY",
    valuation: float | None = None,
    round_id: str = "r1",
) -> dict[str, Any]:
    return {
        "round_id": round_id,
        "date": date,
        "amount": amount,
        "currency": currency,
        "post_money_valuation": valuation,
        "investors": [],
    }


def revenue_series(*values: float, first_year: int = 2020, rd_share: float = 0.03) -> dict:
    return {
        first_year + i: {"revenue": v, "rd_expense": v * rd_share} for i, v in enumerate(values)
    }
