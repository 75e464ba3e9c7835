"""The unit inboxes and the admin endpoints over HTTP: who may read what, and paging."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from services.notifications import subscriptions as subs
from services.notifications.alerts import cloudevent
from services.notifications.schemas import InboxQuery, MarkRead, SubscriptionQuery
from services.notifications.storage import Notifications
from shared.envelope import flatten_errors
from shared.http import Problem, load_query, read_json
from shared.keys import ADMIN, ApiKeys, bearer_owner
from shared.pagination import decode_cursor, encode_cursor
from shared.units import WITH_PROVINCE


def authorize_unit(keys: ApiKeys, request: Any, unit: str) -> None:
    """A unit's key reads only that unit's inbox; an admin key reads any that exists (a code
    like 2201０0 names none, rather than an empty one)."""
    owner = bearer_owner(keys, request)
    if unit not in WITH_PROVINCE:
        known = ", ".join(WITH_PROVINCE)
        raise Problem(404, "Not Found", f"no inbox {unit}", {"unit": [f"must be one of {known}"]})
    if owner not in (unit, ADMIN):
        raise Problem(403, "Forbidden", f"this key is for unit {owner}, not {unit}")


def authorize_admin(keys: ApiKeys, request: Any) -> None:
    if bearer_owner(keys, request) != ADMIN:
        raise Problem(403, "Forbidden", "administration needs an admin key")


def view(record: dict[str, Any]) -> dict[str, Any]:
    return {**cloudevent(record), "unit": record["unit"], "read": record["read_at"] is not None}


def page(store: Notifications, keys: ApiKeys, request: Any, unit: str) -> dict[str, Any]:
    authorize_unit(keys, request, unit)
    query = load_query(request, InboxQuery())
    after = None
    if "cursor" in query:
        at, _, alert_id = decode_cursor(query["cursor"]).partition("|")
        try:
            after = (datetime.fromisoformat(at), alert_id)
        except ValueError:
            raise Problem(400, "Bad Request", "malformed cursor", {"cursor": ["unknown"]}) from None
    records = store.inbox(unit, query["unread"], after, query["limit"])
    last = records[-1] if len(records) == query["limit"] else None
    cursor = encode_cursor(f"{last['created_at'].isoformat()}|{last['alert_id']}") if last else None
    return {"unit": unit, "items": [view(r) for r in records], "next_cursor": cursor}


def mark_read(store: Notifications, keys: ApiKeys, request: Any, unit: str) -> dict[str, int]:
    authorize_unit(keys, request, unit)
    body = read_json(request)
    try:
        wanted = MarkRead().load(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        raise Problem(
            422,
            "Unprocessable Content",
            'give {"ids": [...]} or {"all": true}',
            flatten_errors(exc.messages),
        ) from None
    return {"marked": store.mark_read(unit, wanted.get("ids"))}


def subscriptions(store: Notifications, keys: ApiKeys, request: Any) -> dict[str, Any]:
    authorize_admin(keys, request)
    unit = load_query(request, SubscriptionQuery()).get("unit")
    return {"items": store.subscriptions(unit)}


def add_subscription(store: Notifications, keys: ApiKeys, request: Any) -> dict[str, Any]:
    authorize_admin(keys, request)
    body = read_json(request)
    try:
        subscription = subs.make_subscription(body if isinstance(body, dict) else {})
    except subs.InvalidSubscription as exc:
        raise Problem(422, "Unprocessable Content", "invalid subscription", exc.errors) from None
    store.add_subscription(subscription)
    return subs.public(subscription)


def remove_subscription(store: Notifications, keys: ApiKeys, request: Any, sub_id: str) -> None:
    authorize_admin(keys, request)
    if not store.remove_subscription(sub_id):
        raise Problem(404, "Not Found", f"no subscription {sub_id}")
