"""notifications service: entrypoints and dependencies only. Use cases in handlers.py, reads
in views.py, routing and alerts in routing.py and alerts.py, the senders in senders.py."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from nameko.rpc import rpc
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.notifications import handlers, schemas, views
from services.notifications import subscriptions as subs
from services.notifications.metrics import ALERTS, DELIVERIES, storage_gauges
from services.notifications.senders import Senders
from services.notifications.storage import NotificationStore
from shared.auth import Access
from shared.batches import Batch
from shared.domain import clock
from shared.events import subscribe
from shared.gauges import StorageGauges
from shared.http import http, json_response
from shared.keys import LegacyKeyStore
from shared.ops import OpsEndpoints

DELIVERY_POLL_SECONDS = 1
DIGEST_CHECK_SECONDS = 3600


class NotificationsService(OpsEndpoints):
    name = "notifications"

    store = NotificationStore()
    old_keys = LegacyKeyStore()
    access = Access()
    senders = Senders()
    gauges = StorageGauges(storage_gauges)

    @subscribe("tiering", "tier_changed")
    def on_tier_changed(self, batch: Batch[dict[str, Any]]) -> None:
        self.count(handlers.tier_changes(self.store, batch, clock.now()))

    @subscribe("incubators", "incubator_finding")
    def on_finding(self, batch: Batch[dict[str, Any]]) -> None:
        self.count(handlers.findings(self.store, batch, clock.now()))

    def count(self, alerts: list[dict[str, Any]]) -> None:
        for record in alerts:
            ALERTS.labels(record["kind"]).inc()

    @timer(interval=DELIVERY_POLL_SECONDS)
    def deliver(self) -> None:
        for channel, outcome in handlers.deliver_due(
            self.store, self.senders.by_channel, self.senders.policy, clock.now()
        ):
            DELIVERIES.labels(channel, outcome).inc()

    @timer(interval=DIGEST_CHECK_SECONDS)
    def digest_yesterday(self) -> None:
        """Hourly, so a restart over midnight misses no day; a day's digest is stored once."""
        self.digest((clock.today() - timedelta(days=1)).isoformat())

    @rpc
    def digest(self, day: str) -> int:
        return len(handlers.digest(self.store, date.fromisoformat(day), clock.now()))

    @http("GET", "/v1/units/<unit>/alerts", doc=schemas.INBOX)
    def list_alerts(self, request: Any, unit: str) -> Response:
        principal = self.access.principal(request)
        return json_response(views.inbox(self.store, principal, request, unit))

    @http("POST", "/v1/units/<unit>/alerts/read", doc=schemas.MARK_READ)
    def mark_read(self, request: Any, unit: str) -> Response:
        principal = self.access.principal(request)
        return json_response(handlers.mark_read_for(self.store, principal, request, unit))

    @http("GET", "/v1/admin/subscriptions", doc=schemas.LIST_SUBSCRIPTIONS)
    def list_subscriptions(self, request: Any) -> Response:
        principal = self.access.principal(request)
        return json_response(views.subscriptions(self.store, principal, request))

    @http("POST", "/v1/admin/subscriptions", doc=schemas.ADD_SUBSCRIPTION)
    def add_subscription(self, request: Any) -> Response:
        principal = self.access.principal(request)
        return json_response(handlers.add_subscription(self.store, principal, request), 201)

    @http("DELETE", "/v1/admin/subscriptions/<sub_id>", doc=schemas.REMOVE_SUBSCRIPTION)
    def remove_subscription(self, request: Any, sub_id: str) -> Response:
        handlers.remove_subscription(self.store, self.access.principal(request), sub_id)
        return Response(status=204)

    # For the portal, which checks its user's reach itself.
    @rpc
    def alerts(self, unit: str, unread: bool, cursor: str | None, limit: int) -> dict[str, Any]:
        return views.cached_page(self.store, unit, unread, cursor, limit)

    @rpc
    def mark_alerts_read(self, unit: str, ids: list[str] | None) -> int:
        """Mark the unit's alerts with these ids read, or all of them (None)."""
        return handlers.mark_read(self.store, unit, ids)

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
