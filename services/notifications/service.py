"""notifications service: entrypoints and dependencies only; routing, alerts and retries live
in routing.py, alerts.py, delivery.py; use cases in handling.py and inbox.py."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from nameko.rpc import rpc
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.notifications import handling, inbox, schemas
from services.notifications import subscriptions as subs
from services.notifications.metrics import ALERTS, DELIVERIES, storage_gauges
from services.notifications.senders import Senders
from services.notifications.storage import NotificationStore
from shared import clock
from shared.auth import Access
from shared.batches import Batch
from shared.events import subscribe
from shared.gauges import StorageGauges
from shared.http import http, json_response
from shared.keys import LegacyKeyStore
from shared.openapi import Doc
from shared.ops import OpsEndpoints


class NotificationsService(OpsEndpoints):
    name = "notifications"

    store = NotificationStore()
    old_keys = LegacyKeyStore()
    access = Access()
    senders = Senders()
    gauges = StorageGauges(storage_gauges)

    @subscribe("tiering", "tier_changed")
    def on_tier_changed(self, batch: Batch[dict[str, Any]]) -> None:
        self.count(handling.tier_changes(self.store, batch, clock.now()))

    @subscribe("incubators", "incubator_finding")
    def on_finding(self, batch: Batch[dict[str, Any]]) -> None:
        self.count(handling.findings(self.store, batch, clock.now()))

    def count(self, alerts: list[dict[str, Any]]) -> None:
        for record in alerts:
            ALERTS.labels(record["kind"]).inc()

    @timer(interval=1)
    def deliver(self) -> None:
        for channel, outcome in handling.deliver_due(
            self.store, self.senders.by_channel, self.senders.policy, clock.now()
        ):
            DELIVERIES.labels(channel, outcome).inc()

    @timer(interval=3600)
    def daily_digest(self) -> None:
        self.digest((clock.today() - timedelta(days=1)).isoformat())

    @rpc
    def digest(self, day: str) -> int:
        return len(handling.digest(self.store, date.fromisoformat(day), clock.now()))

    @http(
        "GET",
        "/v1/units/<unit>/alerts",
        doc=Doc(
            "a unit's alerts, newest first",
            schemas.AlertPage,
            errors=(403,),
            query=schemas.InboxQuery,
            key=True,
        ),
    )
    def list_alerts(self, request: Any, unit: str) -> Response:
        return json_response(inbox.page(self.store, self.access.principal(request), request, unit))

    @http(
        "POST",
        "/v1/units/<unit>/alerts/read",
        doc=Doc(
            "mark alerts read",
            schemas.Marked,
            errors=(403, 422),
            body={"application/json": schemas.MarkRead},
            key=True,
        ),
    )
    def mark_read(self, request: Any, unit: str) -> Response:
        return json_response(
            inbox.mark_read(self.store, self.access.principal(request), request, unit)
        )

    @http(
        "GET",
        "/v1/admin/subscriptions",
        doc=Doc(
            "subscriptions (admin key)",
            schemas.SubscriptionList,
            errors=(403,),
            query=schemas.SubscriptionQuery,
            key=True,
        ),
    )
    def list_subscriptions(self, request: Any) -> Response:
        return json_response(
            inbox.subscriptions(self.store, self.access.principal(request), request)
        )

    @http(
        "POST",
        "/v1/admin/subscriptions",
        doc=Doc(
            "add a subscription (admin key)",
            schemas.SubscriptionOut,
            status=201,
            errors=(403, 422),
            body={"application/json": schemas.SubscriptionIn},
            key=True,
        ),
    )
    def add_subscription(self, request: Any) -> Response:
        return json_response(
            inbox.add_subscription(self.store, self.access.principal(request), request), 201
        )

    @http(
        "DELETE",
        "/v1/admin/subscriptions/<sub_id>",
        doc=Doc("remove a subscription (admin key)", None, status=204, errors=(403,), key=True),
    )
    def remove_subscription(self, request: Any, sub_id: str) -> Response:
        inbox.remove_subscription(self.store, self.access.principal(request), request, sub_id)
        return Response(status=204)

    # For the portal, which checks its user's reach itself.
    @rpc
    def alerts(self, unit: str, unread: bool, cursor: str | None, limit: int) -> dict[str, Any]:
        return inbox.cached_page(self.store, unit, unread, cursor, limit)

    @rpc
    def mark_alerts_read(self, unit: str, ids: list[str] | None) -> int:
        """Mark the unit's alerts with these ids read, or all of them (None)."""
        return inbox.marked(self.store, unit, ids)

    # For `tracker subscriptions`: the admin endpoints' work over RPC. Bad input raises
    # InvalidSubscription naming each field (expected: logged as a warning, not an error).
    @rpc(expected_exceptions=subs.InvalidSubscription)
    def subscriptions(self, unit: str | None = None) -> list[dict[str, Any]]:
        return subs.listing(self.store, unit)

    @rpc(expected_exceptions=subs.InvalidSubscription)
    def create_subscription(self, subscription: dict[str, Any], request_id: str) -> dict[str, Any]:
        """`{"subscription": ..., "secret": the webhook secret made here, or None}`; the same
        `request_id` again adds nothing and answers the same."""
        return subs.create(self.store, subscription, request_id)

    @rpc(expected_exceptions=subs.InvalidSubscription)
    def delete_subscription(self, sub_id: str) -> bool:
        return subs.delete(self.store, sub_id)

    @rpc
    def legacy_keys(self) -> list[dict[str, Any]]:
        """Keys issued here before the auth service (`tracker keys import-legacy`)."""
        return self.old_keys.records()
