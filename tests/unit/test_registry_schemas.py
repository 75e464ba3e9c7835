from datetime import timedelta

import pytest

from services.registry.schemas import (
    AnnualReport,
    EnterpriseRegistered,
    FundingRound,
    StatusChanged,
)
from shared.domain import clock
from shared.envelope import InvalidEvent, load_data, parse_envelope
from tests.support.events import (
    annual_report,
    cloud_event,
    funding_round,
    jilin_uscc,
    registration,
    status_change,
)

CODE = jilin_uscc(7)
TOMORROW = (clock.today() + timedelta(days=1)).isoformat()
NEXT_YEAR = clock.today().year + 1


def load(schema, data):
    return load_data(parse_envelope(cloud_event("any.type", data)), schema()).data


def rejection(schema, data):
    with pytest.raises(InvalidEvent) as caught:
        load(schema, data)
    return caught.value.errors


def test_registration_defaults_and_normalisation():
    data = load(EnterpriseRegistered, registration(uscc=CODE.lower()))
    assert data["uscc"] == CODE
    assert (data["entity_kind"], data["listing"], data["zone"]) == ("independent", "unlisted", None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uscc": "91220101000000001X"}, "data.uscc"),
        ({"uscc": 12345}, "data.uscc"),
        ({"region_code": "110101"}, "data.region_code"),
        ({"region_code": "22010"}, "data.region_code"),
        ({"zone": "somewhere"}, "data.zone"),
        ({"entity_kind": "subsidiary"}, "data.entity_kind"),
        ({"listing": "nasdaq"}, "data.listing"),
        ({"founded_on": "2019-02-30"}, "data.founded_on"),
        ({"founded_on": 2019}, "data.founded_on"),
        ({"founded_on": TOMORROW}, "data.founded_on"),
        ({"name": "   "}, "data.name"),
        ({"name": "x" * 201}, "data.name"),
        ({"$where": "1"}, "data.$where"),
    ],
)
def test_registration_rejections(overrides, field):
    assert field in rejection(EnterpriseRegistered, {**registration(CODE), **overrides})


@pytest.mark.parametrize("field", ["uscc", "name", "region_code", "industry", "founded_on"])
def test_registration_required_fields(field):
    data = registration(CODE)
    del data[field]
    assert f"data.{field}" in rejection(EnterpriseRegistered, data)


def test_a_valid_annual_report_loads():
    assert load(AnnualReport, annual_report(CODE, 2023))["revenue"] == 12_000_000.0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"revenue": -1}, "data.revenue"),
        ({"rd_expense": -0.5}, "data.rd_expense"),
        ({"revenue": "lots"}, "data.revenue"),
        ({"employees": -3}, "data.employees"),
        ({"employees": 4.5}, "data.employees"),
        ({"invention_patents": "2"}, "data.invention_patents"),
        ({"other_ip": -1}, "data.other_ip"),
        ({"high_tech_certified": "yes"}, "data.high_tech_certified"),
        ({"award": 1}, "data.award"),
        ({"year": NEXT_YEAR}, "data.year"),
        ({"year": 1800}, "data.year"),
        ({"year": "2023"}, "data.year"),
    ],
)
def test_annual_report_rejections(overrides, field):
    assert field in rejection(AnnualReport, {**annual_report(CODE, 2023), **overrides})


@pytest.mark.parametrize("field", ["year", "revenue", "employees", "tech_sme_registered"])
def test_annual_report_required_fields(field):
    data = annual_report(CODE, 2023)
    del data[field]
    assert f"data.{field}" in rejection(AnnualReport, data)


def test_a_valid_funding_round_loads_with_defaults():
    data = funding_round(CODE, currency="USD")
    del data["investors"], data["post_money_valuation"]
    loaded = load(FundingRound, data)
    assert (loaded["investors"], loaded["post_money_valuation"]) == ([], None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "EUR"}, "data.currency"),
        ({"amount": -10}, "data.amount"),
        ({"date": TOMORROW}, "data.date"),
        ({"round_id": "a.b"}, "data.round_id"),
        ({"round_id": "$set"}, "data.round_id"),
        ({"round_id": ""}, "data.round_id"),
        ({"post_money_valuation": -1}, "data.post_money_valuation"),
        ({"investors": "one"}, "data.investors"),
    ],
)
def test_funding_round_rejections(overrides, field):
    assert field in rejection(FundingRound, funding_round(CODE, **overrides))


def test_a_status_change_needs_a_change():
    assert "data._schema" in rejection(StatusChanged, status_change(CODE))
    assert load(StatusChanged, status_change(CODE, active=False))["active"] is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"listing": "otc", "active": False}, "data.listing"),
        ({"credit_blacklisted": "no"}, "data.credit_blacklisted"),
        ({"entity_kind": "joint"}, "data.entity_kind"),
        ({"active": False, "effective_on": TOMORROW}, "data.effective_on"),
        ({"active": False, "founded_on": "2020-01-01"}, "data.founded_on"),
    ],
)
def test_status_change_rejections(changes, field):
    assert field in rejection(StatusChanged, status_change(CODE, **changes))


@pytest.mark.parametrize(
    ("schema", "data", "field", "problem"),
    [
        (
            EnterpriseRegistered,
            registration(founded_on="20150101"),
            "data.founded_on",
            "YYYY-MM-DD",
        ),
        (EnterpriseRegistered, registration(founded_on=20150101), "data.founded_on", "YYYY-MM-DD"),
        (AnnualReport, annual_report(CODE, 2023, revenue="100"), "data.revenue", "a JSON number"),
        (
            AnnualReport,
            annual_report(CODE, 2023, rd_expense=True),
            "data.rd_expense",
            "a JSON number",
        ),
    ],
)
def test_dates_and_money_are_taken_only_as_the_contract_writes_them(schema, data, field, problem):
    assert problem in rejection(schema, data)[field][0]


def test_whole_numbers_are_money_too():
    assert load(AnnualReport, annual_report(CODE, 2023, revenue=100))["revenue"] == 100.0
