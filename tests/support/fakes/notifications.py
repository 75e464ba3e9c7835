"""notifications' storage in memory (a NotificationsRepository), for unit tests of its use
cases: the same answers as storage.Notifications, without a server."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from services.notifications.delivery import pending_delivery
from shared.domain import clock

Record = dict[str, Any]


class InMemoryNotifications:
    def __init__(self) -> None:
        self.seqs: dict[str, int] = {}
        self.alerts: dict[str, Record] = {}
        self.subs: dict[str, Record] = {}
        self.deliveries: dict[str, Record] = {}

    def last_seqs(self, usccs: list[str]) -> dict[str, int]:
        return {uscc: self.seqs[uscc] for uscc in usccs if uscc in self.seqs}

    def advance_seqs(self, seqs: dict[str, int]) -> None:
        for uscc, seq in seqs.items():
            self.seqs[uscc] = max(seq, self.seqs.get(uscc, 0))

    def add_alerts(self, alerts: list[Record]) -> None:
        for record in alerts:
            self.alerts.setdefault(record["alert_id"], copy.deepcopy(record))

    def alert(self, alert_id: str) -> Record | None:
        return copy.deepcopy(self.alerts.get(alert_id))

    def inbox(
        self, unit: str, unread: bool, after: tuple[datetime, str] | None, limit: int
    ) -> list[Record]:
        newest_first = sorted(
            (a for a in self.alerts.values() if a["unit"] == unit),
            key=lambda a: (a["created_at"], a["alert_id"]),
            reverse=True,
        )
        chosen = [
            a
            for a in newest_first
            if not (unread and a["read_at"] is not None)
            and (after is None or (a["created_at"], a["alert_id"]) < after)
        ]
        return copy.deepcopy(chosen[:limit])

    def mark_read(self, unit: str, alert_ids: list[str] | None) -> int:
        marked = 0
        for record in self.alerts.values():
            wanted = alert_ids is None or record["alert_id"] in alert_ids
            if record["unit"] == unit and record["read_at"] is None and wanted:
                record["read_at"] = clock.now()
                marked += 1
        return marked

    def alerts_between(self, start: datetime, end: datetime) -> list[Record]:
        return [
            {"unit": a["unit"], "kind": a["kind"]}
            for a in self.alerts.values()
            if start <= a["created_at"] < end and a["kind"] != "digest"
        ]

    def add_subscription(self, subscription: Record) -> bool:
        if subscription["sub_id"] in self.subs:
            return False
        self.subs[subscription["sub_id"]] = copy.deepcopy(subscription)
        return True

    def subscriptions(self, unit: str | None = None) -> list[Record]:
        return [
            {k: v for k, v in s.items() if k != "secret"}
            for _, s in sorted(self.subs.items())
            if unit is None or s["unit"] == unit
        ]

    def subscriptions_by_unit(self) -> dict[str, list[Record]]:
        by_unit: dict[str, list[Record]] = {}
        for subscription in self.subscriptions():
            by_unit.setdefault(subscription["unit"], []).append(subscription)
        return by_unit

    def subscription(self, sub_id: str) -> Record | None:
        return copy.deepcopy(self.subs.get(sub_id))

    def remove_subscription(self, sub_id: str) -> bool:
        return self.subs.pop(sub_id, None) is not None

    def add_deliveries(self, deliveries: list[tuple[Record, Record]], now: datetime) -> None:
        for record, subscription in deliveries:
            delivery = pending_delivery(record, subscription, now)
            self.deliveries.setdefault(delivery["delivery_id"], delivery)

    def due(self, now: datetime, limit: int) -> list[Record]:
        waiting = [
            d
            for d in self.deliveries.values()
            if d["state"] == "pending" and d["next_attempt_at"] <= now
        ]
        return copy.deepcopy(sorted(waiting, key=lambda d: d["next_attempt_at"])[:limit])

    def settle(self, delivery_id: str, changes: Record) -> None:
        if delivery_id in self.deliveries:
            self.deliveries[delivery_id].update(changes)
