"""How each enterprise event type changes a firm's record (the registry's use cases)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.registry import records
from services.registry.storage import Enterprises
from shared.envelope import CloudEvent

Record = dict[str, Any]


def registered(enterprises: Enterprises, event: CloudEvent) -> Record | None:
    return enterprises.put_part(
        event.data["uscc"], "profile", records.registration_part(event), records.order_key(event)
    )


def annual_report(enterprises: Enterprises, event: CloudEvent) -> Record | None:
    data = event.data
    return enterprises.put_part(
        data["uscc"],
        f"reports.{data['year']}",
        records.report_part(event),
        records.order_key(event),
    )


def funding_round(enterprises: Enterprises, event: CloudEvent) -> Record | None:
    data = event.data
    return enterprises.put_part(
        data["uscc"],
        f"funding.{data['round_id']}",
        records.funding_part(event),
        records.order_key(event),
    )


def status_changed(enterprises: Enterprises, event: CloudEvent) -> Record | None:
    return enterprises.put_part(
        event.data["uscc"],
        f"status_changes.{records.event_digest(event)}",
        records.status_change_part(event),
        records.order_key(event, event.data["effective_on"]),
    )


APPLY: dict[str, Callable[[Enterprises, CloudEvent], Record | None]] = {
    "enterprise.registered": registered,
    "enterprise.annual_report": annual_report,
    "enterprise.funding_round": funding_round,
    "enterprise.status_changed": status_changed,
}


def apply(enterprises: Enterprises, event: CloudEvent) -> Record | None:
    """The record after the event, or None when the event changed nothing (it was stale)."""
    return APPLY[event.type](enterprises, event)
