"""incubators service: entrypoints and dependencies only; rules in lifecycle.py, findings.py,
progress.py; use cases in handling.py, api.py (POST /v1/events) and views.py (reads)."""

from __future__ import annotations

from datetime import date
from typing import Any

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.incubators import api, handling, schemas, views
from services.incubators.metrics import storage_gauges
from services.incubators.storage import IncubatorStore
from shared import clock
from shared.batches import Batch
from shared.envelope import CloudEvent
from shared.events import EventDispatcher, subscribe
from shared.gauges import StorageGauges
from shared.http import http, json_response
from shared.ingress import ingress
from shared.keys import ApiKeyStore, bearer_owner, key_id, presented_token
from shared.openapi import Doc
from shared.ops import OpsEndpoints
from shared.publisher import ConfirmedPublisher
from shared.ratelimit import RateLimit, admit

SWEEP_SECONDS = 3600


class IncubatorsService(OpsEndpoints):
    name = "incubators"

    config = Config()
    store = IncubatorStore()
    keys = ApiKeyStore()
    rate_limit = RateLimit("EVENTS_RATE_LIMIT")
    publisher = ConfirmedPublisher()
    dispatch = EventDispatcher()
    registry = RpcProxy("registry")
    gauges = StorageGauges(storage_gauges)

    def announce(self, found: list[dict[str, Any]]) -> None:
        if found:
            self.dispatch.many(("incubator_finding", finding) for finding in found)
            self.store.mark_announced([finding["finding_id"] for finding in found])

    @ingress(schemas.EVENT_SCHEMAS)
    def on_events(self, batch: Batch[CloudEvent]) -> None:
        found = handling.on_events(self.store, batch)
        wanted = handling.firms_without_facts(self.store, batch)
        if wanted:
            self.dispatch("snapshots_wanted", {"usccs": wanted})
        self.announce(found)

    @subscribe("registry", "enterprise_updated")
    def on_enterprise_updated(self, batch: Batch[dict[str, Any]]) -> None:
        self.announce(handling.enterprise_updated(self.store, batch))

    @timer(interval=SWEEP_SECONDS)
    def sweep_overdue(self) -> None:
        self.announce(handling.sweep(self.store, clock.today()))

    @rpc
    def sweep(self, as_of: str | None = None) -> int:
        """Operators (and tests) run the overdue sweep as of a given day."""
        found = handling.sweep(self.store, date.fromisoformat(as_of) if as_of else clock.today())
        self.announce(found)
        return len(found)

    @http("POST", "/v1/events", doc=api.DOC)
    def post_events(self, request: Any) -> Response:
        incubator_id = bearer_owner(self.keys, request)
        admit(self.rate_limit, key_id(presented_token(request)))
        return json_response(api.post(self.store, self.publisher, incubator_id, request), 202)

    @http(
        "GET",
        "/v1/incubators/<incubator_id>",
        doc=Doc("a carrier, its incubatees, counts and findings", schemas.IncubatorView),
    )
    def get_incubator(self, request: Any, incubator_id: str) -> Response:
        return json_response(views.incubator(self.store, incubator_id))

    @http(
        "GET",
        "/v1/findings/summary",
        doc=Doc("findings per kind and unit", schemas.FindingsSummary),
    )
    def findings_summary(self, request: Any) -> Response:
        return json_response(self.store.findings_summary())

    @http(
        "GET",
        "/v1/progress",
        doc=Doc("policy targets against actual", schemas.Progress, errors=(503,)),
    )
    def get_progress(self, request: Any) -> Response:
        targets = self.config.get("PROGRESS_TARGETS", {})
        return json_response(views.progress(self.store, targets, views.firm_counts(self.registry)))
