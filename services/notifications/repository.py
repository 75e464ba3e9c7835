"""What notifications' use cases and reads need from storage (storage.Notifications on MongoDB;
tests/support/fakes/notifications.py in memory)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

Record = dict[str, Any]


class NotificationsRepository(Protocol):
    # the last tier-change seq announced per firm
    def last_seqs(self, usccs: list[str]) -> dict[str, int]: ...

    def advance_seqs(self, seqs: dict[str, int]) -> None:
        """Raise each firm's last seq to the one given (never lower it)."""

    # alerts (the inboxes)
    def add_alerts(self, alerts: list[Record]) -> None:
        """Store alerts; one whose id is stored already is left as it is."""

    def alert(self, alert_id: str) -> Record | None: ...

    def inbox(
        self, unit: str, unread: bool, after: tuple[datetime, str] | None, limit: int
    ) -> list[Record]:
        """A unit's alerts, newest first (by creation, then id), after the (time, id) given."""

    def mark_read(self, unit: str, alert_ids: list[str] | None) -> int:
        """Mark the unit's unread alerts with these ids (all: None) read; how many were."""

    def alerts_between(self, start: datetime, end: datetime) -> list[Record]:
        """The alerts created in [start, end), digests left out."""

    # subscriptions
    def add_subscription(self, subscription: Record) -> bool:
        """False, and the stored one kept, when its `sub_id` is stored already."""

    def subscriptions(self, unit: str | None = None) -> list[Record]:
        """Subscriptions (of a unit, or all) without their secrets, by id."""

    def subscriptions_by_unit(self) -> dict[str, list[Record]]: ...

    def subscription(self, sub_id: str) -> Record | None:
        """One subscription with its secret (to sign with)."""

    def remove_subscription(self, sub_id: str) -> bool: ...

    # deliveries
    def add_deliveries(self, deliveries: list[tuple[Record, Record]], now: datetime) -> None:
        """A pending delivery of each (alert, subscription), unless stored before."""

    def due(self, now: datetime, limit: int) -> list[Record]:
        """Pending deliveries whose next attempt is due, the longest waiting first."""

    def settle(self, delivery_id: str, changes: Record) -> None: ...
