"""MongoDB storage of notifications: alerts (the inboxes), subscriptions, persisted deliveries
(so retries survive restarts), and the last tier-change sequence seen per firm."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from shared import clock
from shared.locks import KeyedLocks
from shared.mongo import Repository, RepositoryProvider

PUBLIC_SUBSCRIPTION = {"_id": False, "secret": False}


class Notifications(Repository):
    def __init__(self, db: Any):
        super().__init__(db)
        self.locks = KeyedLocks()

    def ensure_indexes(self) -> None:
        self.db.alerts.create_index(
            [("unit", ASCENDING), ("created_at", DESCENDING), ("alert_id", DESCENDING)]
        )
        self.db.subscriptions.create_index([("unit", ASCENDING)])
        self.db.deliveries.create_index([("state", ASCENDING), ("next_attempt_at", ASCENDING)])

    # ordering of tier changes ---------------------------------------------------------------
    def last_seq(self, uscc: str) -> int:
        record = self.db.firm_sequences.find_one({"_id": uscc})
        return int(record["seq"]) if record else 0

    def advance_seq(self, uscc: str, seq: int) -> None:
        updated = self.db.firm_sequences.update_one(
            {"_id": uscc, "seq": {"$lt": seq}}, {"$set": {"seq": seq}}
        )
        if updated.matched_count == 0:
            with suppress(DuplicateKeyError):
                self.db.firm_sequences.insert_one({"_id": uscc, "seq": seq})

    # alerts ---------------------------------------------------------------------------------
    def add_alert(self, alert: dict[str, Any]) -> None:
        with suppress(DuplicateKeyError):
            self.db.alerts.insert_one({"_id": alert["alert_id"], **alert})

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
    def add_subscription(self, subscription: dict[str, Any]) -> None:
        self.db.subscriptions.insert_one({"_id": subscription["sub_id"], **subscription})

    def subscriptions(
        self, unit: str | None = None, with_secrets: bool = False
    ) -> list[dict[str, Any]]:
        query = {"unit": unit} if unit else {}
        projection = {"_id": False} if with_secrets else PUBLIC_SUBSCRIPTION
        return list(self.db.subscriptions.find(query, projection).sort("sub_id", ASCENDING))

    def subscription(self, sub_id: str) -> dict[str, Any] | None:
        return self.db.subscriptions.find_one({"_id": sub_id}, {"_id": False})

    def remove_subscription(self, sub_id: str) -> bool:
        return self.db.subscriptions.delete_one({"_id": sub_id}).deleted_count == 1

    # deliveries -----------------------------------------------------------------------------
    def add_delivery(
        self, alert: dict[str, Any], subscription: dict[str, Any], now: datetime
    ) -> None:
        with suppress(DuplicateKeyError):
            self.db.deliveries.insert_one(
                {
                    "_id": f"{alert['alert_id']}|{subscription['sub_id']}",
                    "delivery_id": f"{alert['alert_id']}|{subscription['sub_id']}",
                    "alert_id": alert["alert_id"],
                    "sub_id": subscription["sub_id"],
                    "channel": subscription["channel"],
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "last_error": None,
                }
            )

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

    def deliveries(self, state: str | None = None) -> list[dict[str, Any]]:
        query = {"state": state} if state else {}
        return list(self.db.deliveries.find(query, {"_id": False}))

    def pending_count(self) -> int:
        return self.db.deliveries.count_documents({"state": "pending"})


class NotificationStore(RepositoryProvider):
    repository_class = Notifications
