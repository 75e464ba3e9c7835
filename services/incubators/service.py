"""incubators service: entrypoints and dependencies only; rules in lifecycle.py, findings.py,
progress.py; use cases in handling.py, api.py (POST /v1/events) and views.py (reads)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.incubators import api, handling, schemas, views
from services.incubators.metrics import storage_gauges
from services.incubators.storage import IncubatorStore
from shared import clock, scope
from shared.auth import Access
from shared.batches import Batch
from shared.envelope import CloudEvent
from shared.events import EventDispatcher, subscribe
from shared.gauges import StorageGauges
from shared.http import http, json_response
from shared.ingress import ingress
from shared.keys import LegacyKeyStore
from shared.openapi import Doc
from shared.ops import OpsEndpoints
from shared.publisher import ConfirmedPublisher
from shared.ratelimit import RateLimit, admit

SWEEP_SECONDS = 3600


class IncubatorsService(OpsEndpoints):
    name = "incubators"

    config = Config()
    store = IncubatorStore()
    old_keys = LegacyKeyStore()
    access = Access()
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
        principal = self.access.principal(request)
        if principal["kind"] != "incubator":
            raise scope.forbidden("POST /v1/events takes an incubator's key")
        admit(self.rate_limit, principal["key_id"])
        answer = api.post(self.store, self.publisher, principal["subject"], request)
        return json_response(answer, 202)

    @http(
        "GET",
        "/v1/incubators/<incubator_id>",
        doc=Doc(
            "a carrier, its incubatees, counts and findings",
            schemas.IncubatorView,
            errors=(403,),
            key=True,
        ),
    )
    def get_incubator(self, request: Any, incubator_id: str) -> Response:
        principal = self.access.principal(request)
        return json_response(views.scoped_incubator(self.store, principal, incubator_id))

    @http(
        "GET",
        "/v1/findings/summary",
        doc=Doc("findings per kind and unit", schemas.FindingsSummary, errors=(403,), key=True),
    )
    def findings_summary(self, request: Any) -> Response:
        scope.require_everything(self.access.principal(request))
        return json_response(self.store.findings_summary())

    @http(
        "GET",
        "/v1/progress",
        doc=Doc("policy targets against actual", schemas.Progress, errors=(403, 503), key=True),
    )
    def get_progress(self, request: Any) -> Response:
        principal = self.access.principal(request)
        targets = self.config.get("PROGRESS_TARGETS", {})
        firms = partial(views.firm_counts, self.registry)
        return json_response(views.scoped_progress(self.store, principal, targets, firms))

    # For other services (whose keys' reach depends on incubations) and the portal.
    @rpc
    def incubates(self, incubator_id: str, uscc: str) -> bool:
        return self.store.incubates(incubator_id, uscc)

    @rpc
    def incubations_of(self, uscc: str) -> list[dict[str, Any]]:
        return self.store.incubations_of(uscc)

    @rpc
    def carrier(self, incubator_id: str) -> dict[str, Any] | None:
        return self.store.carrier(incubator_id)

    @rpc
    def carrier_page(
        self, incubator_id: str, past_after: str | None, limit: int
    ) -> dict[str, Any] | None:
        return views.carrier_page(self.store, incubator_id, past_after, limit)

    @rpc
    def carriers_of(self, unit: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
        return views.carriers_of(self.store, unit, after, limit)

    @rpc
    def progress(self) -> dict[str, Any]:
        targets = self.config.get("PROGRESS_TARGETS", {})
        return views.cached_progress(self.store, targets, partial(views.firm_counts, self.registry))

    @rpc
    def submit_events(self, incubator_id: str, documents: list[Any]) -> dict[str, Any]:
        """The portal's spreadsheet upload: the same checks and publishing as POST /v1/events."""
        return api.submitted(self.store, self.publisher, incubator_id, documents)

    @rpc
    def legacy_keys(self) -> list[dict[str, Any]]:
        """Keys issued here before the auth service (`tracker keys import-legacy`)."""
        return self.old_keys.records()
