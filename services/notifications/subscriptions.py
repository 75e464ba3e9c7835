"""Subscriptions of a unit: webhook endpoints (URL and signing secret) and e-mail recipients,
each with filters. Made and checked here for the admin endpoints (HTTP) and for the operators'
RPC (`tracker subscriptions`), so both refuse the same input with the same field errors."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from marshmallow import Schema, ValidationError

from services.notifications.repository import NotificationsRepository as Store
from services.notifications.schemas import SubscriptionIn, SubscriptionQuery
from services.notifications.signing import new_secret
from shared.domain import clock, codes
from shared.envelope import flatten_errors

SUB_ID = re.compile(r"sub_[0-9a-f]{1,64}")
SUB_ID_RULE = "must be sub_ and lowercase hex digits, as listed"


class InvalidSubscription(ValueError):
    """Input no subscription can be made of; `errors` names each field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def an_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidSubscription({"_schema": ["must be an object"]})
    return data


def loaded(schema: Schema, data: Any) -> dict[str, Any]:
    try:
        return schema.load(an_object(data))
    except ValidationError as exc:
        raise InvalidSubscription(flatten_errors(exc.messages)) from None


def make_subscription(data: dict[str, Any], sub_id: str | None = None) -> dict[str, Any]:
    return {
        "sub_id": sub_id or f"sub_{secrets.token_hex(6)}",
        **loaded(SubscriptionIn(), data),
        "created_at": clock.now(),
    }


def public(subscription: dict[str, Any]) -> dict[str, Any]:
    """What may be shown: everything but the secret."""
    return {key: value for key, value in subscription.items() if key != "secret"}


# The operators' RPC ----------------------------------------------------------------------------


def sub_id_of_request(request_id: Any) -> str:
    """The id of the subscription a request makes: a repeated request (a redelivered RPC, a
    retried command) names the same subscription, so it is added once."""
    if not isinstance(request_id, str) or not codes.is_identifier(request_id):
        raise InvalidSubscription({"request_id": [codes.IDENTIFIER_RULE]})
    return f"sub_{hashlib.sha256(request_id.encode()).hexdigest()[:12]}"


def create(store: Store, data: Any, request_id: Any) -> dict[str, Any]:
    """Add a subscription once per `request_id`. A webhook given no secret gets one made here,
    returned beside the subscription (again to a repeated request, whose first answer may have
    been lost) so the operator can hand it to the receiver; a secret given is never returned."""
    data, sub_id = an_object(data), sub_id_of_request(request_id)
    secret_wanted = data.get("channel") == "webhook" and "secret" not in data
    stored = store.subscription(sub_id)
    if stored is None:
        made = make_subscription(
            {**data, "secret": new_secret()} if secret_wanted else data, sub_id
        )
        store.add_subscription(made)  # kept as it is if a copy of this request came first
        stored = store.subscription(sub_id) or made
    made_here = secret_wanted and stored["channel"] == "webhook"
    return {"subscription": public(stored), "secret": stored["secret"] if made_here else None}


def listing(store: Store, unit: Any = None) -> list[dict[str, Any]]:
    """Every subscription, or one unit's; never a secret."""
    query = loaded(SubscriptionQuery(), {} if unit is None else {"unit": unit})
    return store.subscriptions(query.get("unit"))


def delete(store: Store, sub_id: Any) -> bool:
    """False when there is no such subscription (any more): removing twice changes nothing."""
    if not isinstance(sub_id, str) or not SUB_ID.fullmatch(sub_id):
        raise InvalidSubscription({"sub_id": [SUB_ID_RULE]})
    return store.remove_subscription(sub_id)
