"""marshmallow schemas of tiering's HTTP queries."""

from __future__ import annotations

from marshmallow import fields, validate

from shared.fields import StrictSchema
from shared.units import UNITS


class Query(StrictSchema):
    pass


class SummaryQuery(Query):
    unit = fields.String(validate=validate.OneOf(sorted(UNITS)))


class WatchlistQuery(Query):
    unit = fields.String(validate=validate.OneOf(sorted(UNITS)))
    cursor = fields.String(validate=validate.Length(1, 64))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
