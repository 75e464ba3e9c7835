"""What notifications' reads answer: a unit's inbox, a page at a time (for its own key, the
province's or an admin's; the portal's pages kept briefly), and the subscriptions (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.notifications import subscriptions as subs
from services.notifications.alerts import cloudevent
from services.notifications.repository import NotificationsRepository as Store
from services.notifications.schemas import InboxQuery, SubscriptionQuery
from shared.cache import TtlCache
from shared.domain.units import WITH_PROVINCE
from shared.http import Problem, load_query
from shared.pagination import decode_cursor, encode_cursor
from shared.scope import Principal, require_admin, require_unit

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


def inbox(store: Store, principal: Principal, request: Any, unit: str) -> dict[str, Any]:
    """`GET /v1/units/{unit}/alerts`: the unit's own key, the province's or an admin's."""
    known_unit(unit)
    require_unit(principal, unit)
    query = load_query(request, InboxQuery())
    return inbox_page(store, unit, query["unread"], query.get("cursor"), query["limit"])


def inbox_page(
    store: Store, unit: str, unread: bool, cursor: str | None, limit: int
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
    store: Store, unit: str, unread: bool, cursor: str | None, limit: int
) -> dict[str, Any]:
    """`inbox_page` for the portal, kept PAGE_SECONDS (a unit's inbox reads every alert on the
    local FerretDB) and forgotten when the unit's alerts are marked read (notifications runs
    as one process, so every mark passes through `forget_pages`): new alerts show within
    PAGE_SECONDS."""
    key = (id(store), unit, unread, cursor, limit)
    known, found = PAGES.get(key)
    if not known:
        found = inbox_page(store, unit, unread, cursor, limit)
        PAGES.put(key, found, PAGE_SECONDS)
    return found


def forget_pages(store: Store, unit: str) -> None:
    for key in [k for k in PAGES.entries if k[:2] == (id(store), unit)]:
        PAGES.entries.pop(key, None)


def subscriptions(store: Store, principal: Principal, request: Any) -> dict[str, Any]:
    """`GET /v1/admin/subscriptions[?unit=]`: admins only, never a secret."""
    require_admin(principal)
    unit = load_query(request, SubscriptionQuery()).get("unit")
    return {"items": [subs.public(s) for s in store.subscriptions(unit)]}
