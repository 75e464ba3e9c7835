"""marshmallow schemas for the `data` of enterprise events (CONTRACT.md)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from shared.fields import PastDate, RegionCode, Text, Uscc
from shared.units import ZONES

ENTITY_KINDS = ("independent", "branch")
LISTINGS = ("unlisted", "neeq", "listed")


class EventData(Schema):
    class Meta:
        unknown = RAISE


class EnterpriseRegistered(EventData):
    uscc = Uscc(required=True)
    name = Text(required=True, max_length=200)
    region_code = RegionCode(required=True)
    zone = fields.String(validate=validate.OneOf(sorted(ZONES)), load_default=None, allow_none=True)
    industry = Text(required=True, max_length=100)
    founded_on = PastDate(required=True)
    entity_kind = fields.String(validate=validate.OneOf(ENTITY_KINDS), load_default="independent")
    listing = fields.String(validate=validate.OneOf(LISTINGS), load_default="unlisted")
