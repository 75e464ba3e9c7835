"""The unit inboxes and the admin endpoints over HTTP: who may read what, and paging."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from services.notifications import subscriptions as subs
from services.notifications.alerts import cloudevent
from services.notifications.schemas import InboxQuery, MarkRead, SubscriptionQuery
from services.notifications.storage import Notifications
from shared.cache import TtlCache
from shared.envelope import flatten_errors
from shared.http import Problem, load_query, read_json
from shared.pagination import decode_cursor, encode_cursor
from shared.scope import Principal, require_admin, require_own_unit, require_unit
from shared.units import WITH_PROVINCE

PAGE_SECONDS = 15.0
PAGES = TtlCache(max_entries=1000)


def known_unit(unit: str) -> None:
    """An inbox exists for each unit and the province; a code like 2201０0 names none (404,
    rather than an empty inbox)."""
    if unit not in WITH_PROVINCE:
        known = ", ".join(WITH_PROVINCE)
        raise Problem(404, "Not Found", f"no inbox {unit}", {"unit": [f"must be one of {known}"]})


def view(record: dict[str, Any]) -> dict[str, Any]:
    return {**cloudevent(record), "unit": record["unit"], "read": record["read_at"] is not None}


def page(store: Notifications, principal: Principal, request: Any, unit: str) -> dict[str, Any]:
    """A unit's inbox: its own key, the province's or an admin's."""
    known_unit(unit)
    require_unit(principal, unit)
    query = load_query(request, InboxQuery())
    return inbox_page(store, unit, query["unread"], query.get("cursor"), query["limit"])


def inbox_page(
    store: Notifications, unit: str, unread: bool, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Newest first, after the opaque `cursor` of the page before (the portal pages too)."""
    after = None
    if cursor:
        at, _, alert_id = decode_cursor(cursor).partition("|")
        try:
            after = (datetime.fromisoformat(at), alert_id)
        except ValueError:
            raise Problem(400, "Bad Request", "malformed cursor", {"cursor": ["unknown"]}) from None
    records = store.inbox(unit, unread, after, limit)
    last = records[-1] if len(records) == limit else None
    cursor = encode_cursor(f"{last['created_at'].isoformat()}|{last['alert_id']}") if last else None
    return {"unit": unit, "items": [view(r) for r in records], "next_cursor": cursor}


def cached_page(
    store: Notifications, unit: str, unread: bool, cursor: str | None, limit: int
) -> dict[str, Any]:
    """`inbox_page` for the portal, kept PAGE_SECONDS (a unit's inbox reads every alert on the
    local FerretDB) and forgotten when the unit's alerts are marked read (notifications runs
    as one process, so every mark passes here): new alerts show within PAGE_SECONDS."""
    key = (id(store), unit, unread, cursor, limit)
    known, found = PAGES.get(key)
    if not known:
        found = inbox_page(store, unit, unread, cursor, limit)
        PAGES.put(key, found, PAGE_SECONDS)
    return found


def marked(store: Notifications, unit: str, ids: list[str] | None) -> int:
    """Mark the unit's alerts read (these, or all with None) and forget its cached pages."""
    count = store.mark_read(unit, ids)
    for key in [k for k in PAGES.entries if k[:2] == (id(store), unit)]:
        PAGES.entries.pop(key, None)
    return count


def mark_read(
    store: Notifications, principal: Principal, request: Any, unit: str
) -> dict[str, int]:
    known_unit(unit)
    require_own_unit(principal, unit)
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
    return {"marked": marked(store, unit, wanted.get("ids"))}


def subscriptions(store: Notifications, principal: Principal, request: Any) -> dict[str, Any]:
    require_admin(principal)
    unit = load_query(request, SubscriptionQuery()).get("unit")
    return {"items": store.subscriptions(unit)}


def add_subscription(store: Notifications, principal: Principal, request: Any) -> dict[str, Any]:
    require_admin(principal)
    body = read_json(request)
    try:
        subscription = subs.make_subscription(body if isinstance(body, dict) else {})
    except subs.InvalidSubscription as exc:
        raise Problem(422, "Unprocessable Content", "invalid subscription", exc.errors) from None
    store.add_subscription(subscription)
    return subs.public(subscription)


def remove_subscription(
    store: Notifications, principal: Principal, request: Any, sub_id: str
) -> None:
    require_admin(principal)
    if not store.remove_subscription(sub_id):
        raise Problem(404, "Not Found", f"no subscription {sub_id}")
