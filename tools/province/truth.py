"""The expected tier of a generated firm under DOMAIN.md's default rules, written directly
from the text and independently of tiering's rule engine, so each checks the other."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

USD_CNY = Fraction(72, 10)


def d(value: Any) -> Fraction:
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def expected_tier(
    profile: dict[str, Any], reports: dict[int, dict[str, Any]], rounds: list[dict[str, Any]]
) -> str:
    if not reports:
        return "none"
    if (
        not profile["region_code"].startswith("22")
        or profile.get("entity_kind") == "branch"
        or not profile.get("active", True)
        or profile.get("credit_blacklisted")
    ):
        return "none"
    t = max(reports)
    age = t - int(profile["founded_on"][:4])
    if age <= 10 and unicorn(profile, rounds):
        return "unicorn"
    if age <= 20 and gazelle(age, t, reports, rounds):
        return "gazelle"
    if age <= 10 and eaglet(t, reports):
        return "eaglet"
    return "none"


def unicorn(profile: dict[str, Any], rounds: list[dict[str, Any]]) -> bool:
    valued = [r for r in rounds if r.get("post_money_valuation")]
    if not valued or profile.get("listing") == "listed":
        return False
    latest = max(valued, key=lambda r: (r["date"], r["round_id"]))
    usd = d(latest["post_money_valuation"]) / (1 if latest["currency"] == "USD" else USD_CNY)
    return usd >= 1_000_000_000


def gazelle(
    age: int, t: int, reports: dict[int, dict[str, Any]], rounds: list[dict[str, Any]]
) -> bool:
    ratios = [
        d(r["rd_expense"]) / d(r["revenue"])
        for y in range(t - 3, t + 1)
        if (r := reports.get(y)) and d(r["revenue"]) > 0
    ]
    if not ratios or sum(ratios) / len(ratios) < Fraction(25, 1000):
        return False
    now, before, first = reports[t], reports.get(t - 1), reports.get(t - 3)
    revenue = d(now["revenue"])
    if (age <= 5 and revenue >= 500_000_000) or (age <= 10 and revenue >= 1_000_000_000):
        return True
    if first and before:
        for field, floor, rate in (
            ("revenue", 10_000_000, Fraction(1, 5)),
            ("employees", 100, Fraction(3, 10)),
        ):
            start, end = d(first[field]), d(now[field])
            if start > floor and end >= start * (1 + rate) ** 3 and end > d(before[field]):
                return True
    in_t = [
        d(r["amount"]) * (USD_CNY if r["currency"] == "USD" else 1)
        for r in rounds
        if r["date"].startswith(str(t))
    ]
    return bool(in_t) and max(in_t) >= 10_000_000


def eaglet(t: int, reports: dict[int, dict[str, Any]]) -> bool:
    now = reports[t]
    sme = any(reports.get(y, {}).get("tech_sme_listed") for y in (t, t - 1))
    if not (sme or now["high_tech_certified"]):
        return False
    award = any(reports.get(y, {}).get("award") for y in (t - 2, t - 1, t))
    return (
        now["invention_patents"] >= 1 or now["other_ip"] >= 2 or now["high_tech_certified"] or award
    )


def graduation_supported(
    basis: str,
    graduated_on: str,
    profile: dict[str, Any],
    reports: dict[int, dict[str, Any]],
    rounds: list[dict[str, Any]],
) -> bool:
    """Whether the registry data supports a graduation in year G on its basis, as DOMAIN.md
    "Incubators" writes the national rule (any one of): a high-tech certificate valid in G (one
    reported for G-2, G-1 or G); cumulative angel/VC investment above 500万 (strictly, exactly);
    revenue over two consecutive years above 1000万 in total; listed, NEEQ 挂牌 included."""
    year = int(graduated_on[:4])
    if basis == "high_tech":
        return any(
            reports.get(y, {}).get("high_tech_certified") for y in (year - 2, year - 1, year)
        )
    if basis == "investment":
        invested = sum(
            d(r["amount"]) * (USD_CNY if r["currency"] == "USD" else 1)
            for r in rounds
            if r["date"] <= graduated_on
        )
        return invested > 5_000_000
    if basis == "revenue":
        return any(
            y <= year
            and y - 1 in reports
            and d(r["revenue"]) + d(reports[y - 1]["revenue"]) > 10_000_000
            for y, r in reports.items()
        )
    return profile.get("listing") in ("neeq", "listed")
