"""marshmallow schemas of tiering's HTTP queries."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.domain.fields import QueryInteger, StrictSchema
from shared.domain.units import WITH_PROVINCE
from shared.openapi import Doc


class Query(StrictSchema):
    pass


class SummaryQuery(Query):
    unit = fields.String(validate=validate.OneOf(WITH_PROVINCE))


class WatchlistQuery(Query):
    unit = fields.String(validate=validate.OneOf(WITH_PROVINCE))
    cursor = fields.String(validate=validate.Length(1, 64))
    limit = QueryInteger(load_default=50, validate=validate.Range(1, 500))


class TierView(Schema):
    """`GET /v1/enterprises/{uscc}/tier`, as docs/contract.md lists it."""

    uscc = fields.String(required=True)
    tier = fields.String(required=True)
    tier_label = fields.String(required=True)
    ruleset = fields.String(required=True)
    evaluated_year = fields.Integer(required=True, allow_none=True)
    since = fields.String(required=True, allow_none=True)
    checks = fields.List(fields.Dict(), required=True)
    history = fields.List(fields.Dict(), required=True)


class Summary(Schema):
    unit = fields.String(required=True, allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    total = fields.Integer(required=True)


class Changes(Schema):
    total = fields.Integer(required=True)
    by_transition = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class WatchlistPage(Schema):
    items = fields.List(fields.Dict(), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


# The HTTP endpoints' descriptions (shared/openapi.py).
TIER = Doc(
    "a firm's tier, the checks behind it and its history", TierView, errors=(400, 403), key=True
)
SUMMARY = Doc("firms per tier", Summary, query=SummaryQuery, errors=(403,), key=True)
CHANGES = Doc("tier moves so far", Changes, errors=(403,), key=True)
WATCHLIST = Doc(
    "firms close to the next tier", WatchlistPage, query=WatchlistQuery, errors=(403,), key=True
)
