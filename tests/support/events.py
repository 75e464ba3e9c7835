"""Builders of valid events for tests; each test changes only what it is about."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from shared.domain import uscc
from shared.envelope import cloud_event_document

_serial = itertools.count(1)


def jilin_uscc(n: int | None = None, region: str = "220101") -> str:
    """A valid USCC for a firm registered in Jilin (authority 9, type 1, region, org code)."""
    number = next(_serial) if n is None else n
    return uscc.make(f"91{region}{number:09d}")


def cloud_event(
    event_type: str,
    data: dict[str, Any],
    source: str = "/samr/jilin",
    event_id: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """A valid event of the SAMR feed's (unless `source` is given), new id, sent now."""
    return cloud_event_document(event_type, source, data, event_id, time)


def registration(code: str | None = None, **overrides: Any) -> dict[str, Any]:
    data = {
        "uscc": code or jilin_uscc(),
        "name": "长春光电测试科技有限公司",
        "region_code": "220102",
        "industry": "photonics",
        "founded_on": "2019-05-20",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def annual_report(code: str, year: int, **overrides: Any) -> dict[str, Any]:
    data = {
        "uscc": code,
        "year": year,
        "revenue": 12_000_000.0,
        "rd_expense": 600_000.0,
        "employees": 45,
        "invention_patents": 2,
        "other_ip": 3,
        "high_tech_certified": True,
        "tech_sme_registered": True,
        "tech_sme_listed": True,
        "award": False,
    }
    data.update(overrides)
    return data


def funding_round(code: str, round_id: str = "A-1", **overrides: Any) -> dict[str, Any]:
    data = {
        "uscc": code,
        "round_id": round_id,
        "date": "2024-06-01",
        "amount": 20_000_000,
        "currency": "CNY",
        "post_money_valuation": 150_000_000,
        "investors": ["吉林创投"],
    }
    data.update(overrides)
    return data


def status_change(code: str, effective_on: str = "2024-07-01", **changes: Any) -> dict[str, Any]:
    return {"uscc": code, "effective_on": effective_on, **changes}


def incubator(incubator_id: str = "JL-INC-0001", **overrides: Any) -> dict[str, Any]:
    data = {
        "incubator_id": incubator_id,
        "name": "长春北湖科技孵化器",
        "kind": "incubator",
        "grade": "provincial",
        "region_code": "220102",
        "area_m2": 20_000,
        "recognised_on": "2018-06-01",
    }
    data.update(overrides)
    return data


def admission(
    incubator_id: str, code: str, admitted_on: str = "2024-03-01", **overrides: Any
) -> dict[str, Any]:
    return {"incubator_id": incubator_id, "uscc": code, "admitted_on": admitted_on, **overrides}


def graduation(
    incubator_id: str, code: str, graduated_on: str = "2025-05-01", basis: str = "high_tech"
) -> dict[str, Any]:
    return {
        "incubator_id": incubator_id,
        "uscc": code,
        "graduated_on": graduated_on,
        "basis": basis,
    }


def carrier_report(incubator_id: str, year: int = 2024, **overrides: Any) -> dict[str, Any]:
    data = {
        "incubator_id": incubator_id,
        "year": year,
        "area_m2": 12_000,
        "incubatee_area_m2": 10_000,
        "mentors": 10,
        "staff": 12,
        "fund": 6_000_000,
        "incubatees_with_financing": 5,
        "incubatees_with_ip": 30,
        "income": 3_000_000,
    }
    data.update(overrides)
    return data


def finding_announced(unit: str = "220100", **overrides: Any) -> dict[str, Any]:
    """An `incubator_finding` as incubators dispatch it (a late admission at a carrier)."""
    data = {
        "finding_id": "late_admission:A:X:2024",
        "kind": "late_admission",
        "incubator_id": "JL-INC-0001",
        "uscc": None,
        "detail": "admitted late",
        "unit": unit,
    }
    data.update(overrides)
    return data
