"""Subscriptions of a unit: webhook endpoints (URL and signing secret) and e-mail recipients,
each with filters. Shared by the admin endpoints and the `tracker subscriptions` command."""

from __future__ import annotations

import secrets
from typing import Any

from marshmallow import ValidationError

from services.notifications.schemas import SubscriptionIn
from shared import clock
from shared.envelope import flatten_errors


class InvalidSubscription(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def make_subscription(data: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded = SubscriptionIn().load(data)
    except ValidationError as exc:
        raise InvalidSubscription(flatten_errors(exc.messages)) from None
    return {"sub_id": f"sub_{secrets.token_hex(6)}", **loaded, "created_at": clock.now()}


def public(subscription: dict[str, Any]) -> dict[str, Any]:
    """What may be shown: everything but the secret."""
    return {key: value for key, value in subscription.items() if key != "secret"}
