"""marshmallow schemas of the notifications HTTP API, and each endpoint's OpenAPI description."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.notifications.signing import SECRET_PREFIX
from shared.domain.fields import QueryInteger, StrictSchema
from shared.domain.units import WITH_PROVINCE
from shared.openapi import Doc

KINDS = ("tier_changed", "finding", "digest")
MAX_URL = 2000


class Strict(StrictSchema):
    pass


class SubscriptionIn(Strict):
    unit = fields.String(required=True, validate=validate.OneOf(WITH_PROVINCE))
    channel = fields.String(required=True, validate=validate.OneOf(("webhook", "email")))
    url = fields.Url(
        schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=MAX_URL)
    )
    secret = fields.String(
        validate=[
            validate.Length(30, 200),
            validate.Regexp(
                rf"^{SECRET_PREFIX}[A-Za-z0-9+/=]+$", error=f"must be {SECRET_PREFIX}<base64>"
            ),
        ]
    )
    address = fields.Email(validate=validate.Length(max=254))  # RFC 5321's limit
    kinds = fields.List(
        fields.String(validate=validate.OneOf(KINDS)),
        validate=validate.Length(max=len(KINDS)),
        load_default=list,
    )
    tiers = fields.List(
        fields.String(validate=validate.Length(1, 40)),
        validate=validate.Length(max=20),
        load_default=list,
    )

    @validates_schema
    def channel_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        needed = ("url", "secret") if data.get("channel") == "webhook" else ("address",)
        missing = {name: ["required for this channel"] for name in needed if name not in data}
        if missing:
            raise ValidationError(missing)


class InboxQuery(Strict):
    unread = fields.Boolean(truthy={"true"}, falsy={"false"}, load_default=False)
    cursor = fields.String(validate=validate.Length(1, 200))
    limit = QueryInteger(load_default=50, validate=validate.Range(1, 200))


class MarkRead(Strict):
    ids = fields.List(
        fields.String(validate=validate.Length(1, 300)), validate=validate.Length(1, 500)
    )
    all = fields.Boolean()

    @validates_schema
    def one_of(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("ids" in data) == bool(data.get("all")):
            raise ValidationError("give either ids or all: true", "_schema")


class SubscriptionQuery(Strict):
    unit = fields.String(validate=validate.OneOf(WITH_PROVINCE))


class AlertPage(Schema):
    unit = fields.String(required=True)
    items = fields.List(fields.Dict(), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class Marked(Schema):
    marked = fields.Integer(required=True)


class SubscriptionOut(Schema):
    """A subscription as shown: never its secret."""

    sub_id = fields.String(required=True)
    unit = fields.String(required=True)
    channel = fields.String(required=True)
    url = fields.String()
    address = fields.String()
    kinds = fields.List(fields.String(), required=True)
    tiers = fields.List(fields.String(), required=True)
    created_at = fields.String(required=True)


class SubscriptionList(Schema):
    items = fields.List(fields.Nested(SubscriptionOut), required=True)


INBOX = Doc("a unit's alerts, newest first", AlertPage, errors=(403,), query=InboxQuery, key=True)
MARK_READ = Doc(
    "mark alerts read",
    Marked,
    errors=(403, 422),
    body={"application/json": MarkRead},
    key=True,
)
LIST_SUBSCRIPTIONS = Doc(
    "subscriptions (admin key)",
    SubscriptionList,
    errors=(403,),
    query=SubscriptionQuery,
    key=True,
)
ADD_SUBSCRIPTION = Doc(
    "add a subscription (admin key)",
    SubscriptionOut,
    status=201,
    errors=(403, 422),
    body={"application/json": SubscriptionIn},
    key=True,
)
REMOVE_SUBSCRIPTION = Doc(
    "remove a subscription (admin key)", None, status=204, errors=(403,), key=True
)
