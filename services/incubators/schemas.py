"""marshmallow schemas for the `data` of incubator events (docs/contract.md) and the HTTP
answers, and each read endpoint's OpenAPI description (POST /v1/events: api.DOC)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.domain.carriers import BASES, GRADES, KINDS, TRACKS
from shared.domain.fields import (
    Number,
    PastDate,
    RegionCode,
    StrictSchema,
    Text,
    Uscc,
    count,
    identifier,
    money,
)
from shared.domain.units import ZONES
from shared.openapi import Doc


def area(**kwargs: Any) -> fields.Float:
    """A non-negative area in square metres."""
    return Number(validate=validate.Range(min=0), allow_nan=False, **kwargs)


class EventData(StrictSchema):
    incubator_id = identifier(required=True)


class IncubatorRegistered(EventData):
    name = Text(required=True, max_length=200)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    grade = fields.String(required=True, validate=validate.OneOf(GRADES))
    region_code = RegionCode(required=True)
    zone = fields.String(validate=validate.OneOf(sorted(ZONES)), load_default=None, allow_none=True)
    area_m2 = area(required=True)
    recognised_on = PastDate(required=True)


class FirmAdmitted(EventData):
    uscc = Uscc(required=True)
    admitted_on = PastDate(required=True)
    track = fields.String(validate=validate.OneOf(TRACKS), load_default=None, allow_none=True)


class FirmGraduated(EventData):
    uscc = Uscc(required=True)
    graduated_on = PastDate(required=True)
    basis = fields.String(required=True, validate=validate.OneOf(BASES))


class FirmExited(EventData):
    uscc = Uscc(required=True)
    exited_on = PastDate(required=True)
    reason = Text(required=True, max_length=500)


class IncubatorAnnualReport(EventData):
    year = fields.Integer(strict=True, required=True)
    area_m2 = area(required=True)
    incubatee_area_m2 = area(required=True)
    mentors = count(required=True)
    staff = count(required=True)
    fund = money(required=True)
    incubatees_with_financing = count(required=True)
    incubatees_with_ip = count(required=True)
    income = money(required=True)
    # Not in the Torch form every carrier fills; where reported, the national rule's other way
    # to meet the IP threshold (patent applications at ≥ 50% of incubatees).
    incubatees_with_patent_applications = count(load_default=None, allow_none=True)

    @validates_schema
    def consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        from shared.domain import clock

        if "year" in data and not 1949 <= data["year"] <= clock.today().year:
            raise ValidationError("must not be after the current year", "year")
        if data.get("incubatee_area_m2", 0) > data.get("area_m2", float("inf")):
            raise ValidationError("cannot exceed area_m2", "incubatee_area_m2")


EVENT_SCHEMAS: dict[str, type[Schema]] = {
    "incubator.registered": IncubatorRegistered,
    "incubator.firm_admitted": FirmAdmitted,
    "incubator.firm_graduated": FirmGraduated,
    "incubator.firm_exited": FirmExited,
    "incubator.annual_report": IncubatorAnnualReport,
}


class Accepted(Schema):
    accepted = fields.List(fields.String(), required=True)
    duplicates = fields.List(fields.String(), required=True)


class IncubatorView(Schema):
    incubator = fields.Dict(required=True)
    current_incubatees = fields.List(fields.Dict(), required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    findings = fields.List(fields.Dict(), required=True)


class FindingsSummary(Schema):
    total = fields.Integer(required=True)
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_unit = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class Progress(Schema):
    carriers = fields.Dict(required=True)
    incubated_firms = fields.Dict(required=True)
    tech_smes_registered = fields.Dict(required=True)
    high_tech_growth = fields.Dict(required=True)
    by_unit = fields.Dict(required=True)


INCUBATOR = Doc(
    "a carrier, its incubatees, counts and findings", IncubatorView, errors=(403,), key=True
)
FINDINGS = Doc("findings per kind and unit", FindingsSummary, errors=(403,), key=True)
PROGRESS = Doc("policy targets against actual", Progress, errors=(403, 503), key=True)
