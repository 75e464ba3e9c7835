"""marshmallow schemas for the `data` of enterprise events (docs/contract.md), with checks
across fields. Checks that need another event (a report year before the founding year) cannot
live here: events arrive in any order, so records.py flags those instead."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.domain import clock
from shared.domain.fields import (
    PastDate,
    QueryInteger,
    RegionCode,
    StrictSchema,
    Text,
    Uscc,
    count,
    flag,
    identifier,
    money,
)
from shared.domain.units import WITH_PROVINCE, ZONES
from shared.openapi import Doc

ENTITY_KINDS = ("independent", "branch")
LISTINGS = ("unlisted", "neeq", "listed")
CURRENCIES = ("CNY", "USD")
EARLIEST_YEAR = 1949
STATUS_FIELDS = ("listing", "active", "credit_blacklisted", "entity_kind")


class EventData(StrictSchema):
    pass


class EnterpriseRegistered(EventData):
    uscc = Uscc(required=True)
    name = Text(required=True, max_length=200)
    region_code = RegionCode(required=True)
    zone = fields.String(validate=validate.OneOf(sorted(ZONES)), load_default=None, allow_none=True)
    industry = Text(required=True, max_length=100)
    founded_on = PastDate(required=True)
    entity_kind = fields.String(validate=validate.OneOf(ENTITY_KINDS), load_default="independent")
    listing = fields.String(validate=validate.OneOf(LISTINGS), load_default="unlisted")


class AnnualReport(EventData):
    uscc = Uscc(required=True)
    year = fields.Integer(strict=True, required=True)
    revenue = money(required=True)
    rd_expense = money(required=True)
    employees = count(required=True)
    invention_patents = count(required=True)
    other_ip = count(required=True)
    high_tech_certified = flag(required=True)
    tech_sme_registered = flag(required=True)
    tech_sme_listed = flag(required=True)
    award = flag(required=True)

    @validates_schema
    def year_is_a_past_fiscal_year(self, data: dict[str, Any], **kwargs: Any) -> None:
        year = data.get("year")
        if year is not None and not EARLIEST_YEAR <= year <= clock.today().year:
            raise ValidationError(
                f"must be between {EARLIEST_YEAR} and the current year {clock.today().year}",
                "year",
            )


class FundingRound(EventData):
    uscc = Uscc(required=True)
    round_id = identifier(required=True)
    date = PastDate(required=True)
    amount = money(required=True)
    currency = fields.String(required=True, validate=validate.OneOf(CURRENCIES))
    post_money_valuation = money(load_default=None, allow_none=True)
    investors = fields.List(
        Text(max_length=200), validate=validate.Length(max=100), load_default=list
    )


class StatusChanged(EventData):
    uscc = Uscc(required=True)
    effective_on = PastDate(required=True)
    listing = fields.String(validate=validate.OneOf(LISTINGS))
    active = flag()
    credit_blacklisted = flag()
    entity_kind = fields.String(validate=validate.OneOf(ENTITY_KINDS))

    @validates_schema
    def changes_something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not any(field in data for field in STATUS_FIELDS):
            raise ValidationError(f"needs at least one of {', '.join(STATUS_FIELDS)}", "_schema")


class EnterpriseView(Schema):
    """`GET /v1/enterprises/{uscc}`: the record as `enterprise_updated` carries it."""

    uscc = fields.String(required=True)
    version = fields.Integer(required=True)
    registered = fields.Boolean(required=True)
    profile = fields.Dict(required=True, allow_none=True)
    unit = fields.String(required=True, allow_none=True)
    status = fields.Dict(required=True)
    annual_reports = fields.List(fields.Dict(), required=True)
    funding_rounds = fields.List(fields.Dict(), required=True)
    conflicts = fields.List(fields.Dict(), required=True)


class EnterprisePage(Schema):
    items = fields.List(fields.Nested(EnterpriseView), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class EnterpriseQuery(StrictSchema):
    """Query string of `GET /v1/enterprises`."""

    unit = fields.String(validate=validate.OneOf(WITH_PROVINCE))
    industry = Text(max_length=100)
    registered = fields.Boolean(truthy={"true"}, falsy={"false"})
    cursor = fields.String(validate=validate.Length(1, 64))
    limit = QueryInteger(load_default=50, validate=validate.Range(1, 500))


EVENT_SCHEMAS: dict[str, type[Schema]] = {
    "enterprise.registered": EnterpriseRegistered,
    "enterprise.annual_report": AnnualReport,
    "enterprise.funding_round": FundingRound,
    "enterprise.status_changed": StatusChanged,
}

# The HTTP endpoints' descriptions (shared/openapi.py).
ENTERPRISE = Doc("one firm's record", EnterpriseView, errors=(400, 403), key=True)
ENTERPRISES = Doc(
    "firms in USCC order, filtered", EnterprisePage, query=EnterpriseQuery, errors=(403,), key=True
)
