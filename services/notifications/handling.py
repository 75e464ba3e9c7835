"""notifications' use cases: turn events into alerts for their units, deliver due alerts with
bounded retries, and compile the province's daily digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from services.notifications import routing
from services.notifications.alerts import alert
from services.notifications.channels import DeliveryFailed
from services.notifications.delivery import RetryPolicy
from services.notifications.storage import Notifications
from shared import clock
from shared.batches import Batch
from shared.units import PROVINCE


class Sender(Protocol):
    def send(self, subscription: dict[str, Any], alert: dict[str, Any]) -> None: ...


def route(
    store: Notifications, kind: str, key: str, data: dict[str, Any], units: list[str], now: datetime
) -> list[dict[str, Any]]:
    """Store an alert per unit (the inbox) and a pending delivery per interested subscription."""
    created = []
    for unit in units:
        record = alert(kind, unit, key, data, now)
        store.add_alert(record)
        for subscription in store.subscriptions(unit):
            if routing.wants(subscription, record):
                store.add_delivery(record, subscription, now)
        created.append(record)
    return created


def each(batch: Batch[dict[str, Any]], handle: Callable[..., list[dict]]) -> list[dict]:
    """`handle(event, now)` for each event of the batch on its own (a failure fails it alone);
    the alerts made."""
    made: list[dict] = []
    for event in batch:
        with batch.each(event):
            made += handle(event, clock.now())
    return made


def tier_changed(store: Notifications, event: dict[str, Any], now: datetime) -> list[dict]:
    """Alerts for a tier change, unless its sequence number is not beyond the last seen one
    (a repeat, or a change overtaken by a later one): never a second or stale alert."""
    with store.locks.hold(event["uscc"]):
        if event["seq"] <= store.last_seq(event["uscc"]):
            return []
        created = route(
            store,
            "tier_changed",
            event["id"],
            event,
            routing.recipients("tier_changed", event),
            now,
        )
        store.advance_seq(event["uscc"], event["seq"])  # after storing: a crash redoes both
    return created


def finding(store: Notifications, found: dict[str, Any], now: datetime) -> list[dict]:
    return route(
        store, "finding", found["finding_id"], found, routing.recipients("finding", found), now
    )


def digest(store: Notifications, day: date, now: datetime) -> list[dict]:
    """The province's summary of one day's alerts (stored once per day)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    by_unit: dict[str, int] = {}
    for record in store.alerts_between(start, start + timedelta(days=1)):
        by_unit[record["unit"]] = by_unit.get(record["unit"], 0) + 1
    data = {"day": day.isoformat(), "total": sum(by_unit.values()), "by_unit": by_unit}
    return route(store, "digest", day.isoformat(), data, [PROVINCE], now)


def deliver_due(
    store: Notifications,
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
