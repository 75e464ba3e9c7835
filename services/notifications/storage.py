"""MongoDB storage of notifications (a NotificationsRepository): alerts (the inboxes),
subscriptions, persisted deliveries (so retries survive restarts), and the last tier-change
sequence seen per firm."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import BulkWriteError

from services.notifications.delivery import pending_delivery
from shared.domain import clock
from shared.mongo import Repository, RepositoryProvider, bulk_write, find_by_ids

DUPLICATE_KEY = 11000

PUBLIC_SUBSCRIPTION = {"_id": False, "secret": False}


class Notifications(Repository):
    """Implements repository.NotificationsRepository; `pending_count` is for the gauges."""

    def ensure_indexes(self) -> None:
        self.db.alerts.create_index(
            [("unit", ASCENDING), ("created_at", DESCENDING), ("alert_id", DESCENDING)]
        )
        self.db.subscriptions.create_index([("unit", ASCENDING)])
        self.db.deliveries.create_index([("state", ASCENDING), ("next_attempt_at", ASCENDING)])

    # ordering of tier changes ---------------------------------------------------------------
    def last_seqs(self, usccs: list[str]) -> dict[str, int]:
        """The last tier-change seq seen of each of these firms (absent: none yet)."""
        found = find_by_ids(self.db.firm_sequences, usccs)
        return {record["_id"]: int(record["seq"]) for record in found}

    def advance_seqs(self, seqs: dict[str, int]) -> None:
        """Each firm's last seen seq, raised to the one given (never lowered)."""
        if not seqs:
            return
        known = self.last_seqs(list(seqs))
        bulk_write(
            self.db.firm_sequences,
            [
                UpdateOne({"_id": uscc, "seq": {"$lt": seq}}, {"$set": {"seq": seq}})
                for uscc, seq in seqs.items()
                if uscc in known
            ],
        )
        new: list[dict[str, Any]] = [
            {"_id": uscc, "seq": seq} for uscc, seq in seqs.items() if uscc not in known
        ]
        if new and not insert_new(self.db.firm_sequences, new):
            self.advance_seqs({d["_id"]: d["seq"] for d in new})  # some stored meanwhile

    # alerts ---------------------------------------------------------------------------------
    def add_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Store alerts; one stored before (a redelivered event) is left as it is."""
        insert_new(self.db.alerts, [{"_id": a["alert_id"], **a} for a in alerts])

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        return self.db.alerts.find_one({"_id": alert_id}, {"_id": False})

    def inbox(
        self, unit: str, unread: bool, after: tuple[datetime, str] | None, limit: int
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"unit": unit}
        if unread:
            query["read_at"] = None
        if after:
            at, alert_id = after
            query["$or"] = [
                {"created_at": {"$lt": at}},
                {"created_at": at, "alert_id": {"$lt": alert_id}},
            ]
        cursor = (
            self.db.alerts.find(query, {"_id": False})
            .sort([("created_at", DESCENDING), ("alert_id", DESCENDING)])
            .limit(limit)
        )
        return list(cursor)

    def mark_read(self, unit: str, alert_ids: list[str] | None) -> int:
        query: dict[str, Any] = {"unit": unit, "read_at": None}
        if alert_ids is not None:
            query["alert_id"] = {"$in": alert_ids}
        return self.db.alerts.update_many(query, {"$set": {"read_at": clock.now()}}).modified_count

    def alerts_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return list(
            self.db.alerts.find(
                {"created_at": {"$gte": start, "$lt": end}, "kind": {"$ne": "digest"}},
                {"_id": False, "unit": True, "kind": True},
            )
        )

    # subscriptions --------------------------------------------------------------------------
    def add_subscription(self, subscription: dict[str, Any]) -> bool:
        """False, and the stored one kept, when its `sub_id` is stored already."""
        return insert_new(self.db.subscriptions, [{"_id": subscription["sub_id"], **subscription}])

    def subscriptions(self, unit: str | None = None) -> list[dict[str, Any]]:
        query = {"unit": unit} if unit else {}
        return list(
            self.db.subscriptions.find(query, PUBLIC_SUBSCRIPTION).sort("sub_id", ASCENDING)
        )

    def subscriptions_by_unit(self) -> dict[str, list[dict[str, Any]]]:
        """Every subscription, by unit (one read for a whole batch of alerts)."""
        by_unit: dict[str, list[dict[str, Any]]] = {}
        for subscription in self.subscriptions():
            by_unit.setdefault(subscription["unit"], []).append(subscription)
        return by_unit

    def subscription(self, sub_id: str) -> dict[str, Any] | None:
        return self.db.subscriptions.find_one({"_id": sub_id}, {"_id": False})

    def remove_subscription(self, sub_id: str) -> bool:
        return self.db.subscriptions.delete_one({"_id": sub_id}).deleted_count == 1

    # deliveries -----------------------------------------------------------------------------
    def add_deliveries(
        self, deliveries: list[tuple[dict[str, Any], dict[str, Any]]], now: datetime
    ) -> None:
        """A pending delivery of each (alert, subscription), unless stored before."""
        new = (pending_delivery(alert, sub, now) for alert, sub in deliveries)
        insert_new(self.db.deliveries, [{"_id": d["delivery_id"], **d} for d in new])

    def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        return list(
            self.db.deliveries.find(
                {"state": "pending", "next_attempt_at": {"$lte": now}}, {"_id": False}
            )
            .sort("next_attempt_at", ASCENDING)
            .limit(limit)
        )

    def settle(self, delivery_id: str, changes: dict[str, Any]) -> None:
        self.db.deliveries.update_one({"_id": delivery_id}, {"$set": changes})

    def pending_count(self) -> int:
        return self.db.deliveries.count_documents({"state": "pending"})


def insert_new(collection: Any, documents: list[dict[str, Any]]) -> bool:
    """Insert the documents; those whose `_id` is stored already are left as they are (False
    when there were any)."""
    if not documents:
        return True
    try:
        collection.insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        if any(e["code"] != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise
        return False
    return True


class NotificationStore(RepositoryProvider[Notifications]):
    repository_class = Notifications
