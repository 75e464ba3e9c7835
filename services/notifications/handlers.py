"""notifications' use cases: turn events into alerts for their units, deliver due alerts with
bounded retries, compile the province's daily digest, mark alerts read and manage
subscriptions. Each takes its storage as a NotificationsRepository."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from marshmallow import ValidationError

from services.notifications import routing, views
from services.notifications import subscriptions as subs
from services.notifications.alerts import alert
from services.notifications.delivery import RetryPolicy
from services.notifications.repository import NotificationsRepository as Store
from services.notifications.schemas import MarkRead
from services.notifications.senders import DeliveryFailed, Sender
from shared.batches import Batch
from shared.domain.units import PROVINCE
from shared.envelope import flatten_errors
from shared.http import Problem, read_json
from shared.scope import Principal, require_admin, require_own_unit

Made = tuple[str, str, dict[str, Any], list[str]]  # (kind, key, data, units) of an alert


def route(store: Store, made: list[Made], now: datetime) -> list[dict[str, Any]]:
    """Store an alert per unit (the inboxes) and a pending delivery per interested subscription,
    for each (kind, key, data, units) made: one write per kind of document for them all."""
    by_unit = store.subscriptions_by_unit()
    alerts = [
        alert(kind, unit, key, data, now) for kind, key, data, units in made for unit in units
    ]
    deliveries = [
        (record, subscription)
        for record in alerts
        for subscription in by_unit.get(record["unit"], [])
        if routing.wants(subscription, record)
    ]
    store.add_alerts(alerts)
    store.add_deliveries(deliveries, now)
    return alerts


def tier_changes(store: Store, batch: Batch[dict[str, Any]], now: datetime) -> list[dict]:
    """Alerts for the batch's tier changes, each firm's in seq order, except those whose seq is
    not beyond the last one seen (a repeat, or a change overtaken by a later one): never a
    second or a stale alert. The seqs advance only once the alerts are stored, so a crash in
    between makes them again (alert ids are derived from what they report: stored once)."""
    changes = sorted(batch, key=lambda change: (change["uscc"], change["seq"]))
    last = store.last_seqs([change["uscc"] for change in changes])
    made = []
    for change in changes:
        if change["seq"] > last.get(change["uscc"], 0):
            last[change["uscc"]] = change["seq"]
            units = routing.recipients("tier_changed", change)
            made.append(("tier_changed", change["id"], change, units))
    created = route(store, made, now)
    store.advance_seqs({data["uscc"]: data["seq"] for _, _, data, _ in made})
    return created


def findings(store: Store, batch: Batch[dict[str, Any]], now: datetime) -> list[dict]:
    """An alert per finding event: a finding's every state (raised, withdrawn, raised again)
    is an event of its own (`event_id`), so each has an alert, and a repeat none."""
    made = [
        (
            "finding",
            found.get("event_id", found["finding_id"]),
            found,
            routing.recipients("finding", found),
        )
        for found in batch
    ]
    return route(store, made, now)


def digest(store: Store, day: date, now: datetime) -> list[dict]:
    """The province's summary of one day's alerts (stored once per day)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    by_unit: dict[str, int] = {}
    for record in store.alerts_between(start, start + timedelta(days=1)):
        by_unit[record["unit"]] = by_unit.get(record["unit"], 0) + 1
    data = {"day": day.isoformat(), "total": sum(by_unit.values()), "by_unit": by_unit}
    return route(store, [("digest", day.isoformat(), data, [PROVINCE])], now)


def deliver_due(
    store: Store,
    senders: dict[str, Sender],
    policy: RetryPolicy,
    now: datetime,
    limit: int = 50,
) -> list[tuple[str, str]]:
    """Attempt every due delivery once; returns (channel, outcome) for the metrics."""
    outcomes = []
    for delivery in store.due(now, limit):
        subscription = store.subscription(delivery["sub_id"])
        record = store.alert(delivery["alert_id"])
        attempts = delivery["attempts"] + 1
        try:
            if subscription is None or record is None:
                raise DeliveryFailed("subscription removed")
            senders[delivery["channel"]].send(subscription, record)
        except DeliveryFailed as failure:
            retry_at = None if subscription is None else policy.next_attempt(attempts, now)
            state = "pending" if retry_at else "dead"
            store.settle(
                delivery["delivery_id"],
                {
                    "attempts": attempts,
                    "state": state,
                    "next_attempt_at": retry_at,
                    "last_error": str(failure),
                },
            )
            outcomes.append((delivery["channel"], "retried" if retry_at else "dead_lettered"))
        else:
            store.settle(
                delivery["delivery_id"],
                {"attempts": attempts, "state": "sent", "sent_at": now, "next_attempt_at": None},
            )
            outcomes.append((delivery["channel"], "sent"))
    return outcomes


def mark_read(store: Store, unit: str, ids: list[str] | None) -> int:
    """Mark the unit's alerts read (these, or all with None) and forget its cached pages."""
    count = store.mark_read(unit, ids)
    views.forget_pages(store, unit)
    return count


def mark_read_for(store: Store, principal: Principal, request: Any, unit: str) -> dict[str, int]:
    """`POST /v1/units/{unit}/alerts/read`: the unit's own key or an admin's (the province's
    reads every inbox but marks none of the units' alerts)."""
    views.known_unit(unit)
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
    return {"marked": mark_read(store, unit, wanted.get("ids"))}


def add_subscription(store: Store, principal: Principal, request: Any) -> dict[str, Any]:
    """An admin's new subscription (422 naming the fields when invalid); the answer never
    holds its secret."""
    require_admin(principal)
    body = read_json(request)
    try:
        subscription = subs.make_subscription(body if isinstance(body, dict) else {})
    except subs.InvalidSubscription as exc:
        raise Problem(422, "Unprocessable Content", "invalid subscription", exc.errors) from None
    store.add_subscription(subscription)
    return subs.public(subscription)


def remove_subscription(store: Store, principal: Principal, sub_id: str) -> None:
    require_admin(principal)
    if not store.remove_subscription(sub_id):
        raise Problem(404, "Not Found", f"no subscription {sub_id}")
