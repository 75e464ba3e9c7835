"""incubators service: entrypoints and dependencies only. Use cases in handlers.py and api.py
(POST /v1/events), reads in views.py; the rules in lifecycle.py, findings.py and progress.py
(their numbers are data: rules.py, rulesets/)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer
from werkzeug.wrappers import Response

from services.incubators import api, handlers, schemas, views
from services.incubators.metrics import storage_gauges
from services.incubators.storage import IncubatorStore, RulesStore
from shared.auth import Access
from shared.batches import Batch
from shared.domain import clock
from shared.envelope import CloudEvent
from shared.events import EventDispatcher, subscribe
from shared.gauges import StorageGauges
from shared.http import http, json_response
from shared.ingress import ingress
from shared.keys import LegacyKeyStore
from shared.ops import OpsEndpoints
from shared.publisher import ConfirmedPublisher
from shared.ratelimit import RateLimit

SWEEP_SECONDS = 3600


class IncubatorsService(OpsEndpoints):
    name = "incubators"

    config = Config()
    store = IncubatorStore()
    rulebook = RulesStore()
    old_keys = LegacyKeyStore()
    access = Access()
    rate_limit = RateLimit("EVENTS_RATE_LIMIT")
    publisher = ConfirmedPublisher()
    dispatch = EventDispatcher()
    registry = RpcProxy("registry")
    gauges = StorageGauges(storage_gauges)

    @ingress(schemas.EVENT_SCHEMAS)
    def on_events(self, batch: Batch[CloudEvent]) -> None:
        founding_dates = partial(handlers.founding_dates_from, self.registry)
        found = handlers.on_events(self.store, self.rulebook.active(), batch, founding_dates)
        handlers.ask_for_snapshots(self.store, batch, self.dispatch)
        handlers.announce(self.store, self.dispatch, found)

    @subscribe("registry", "enterprise_updated")
    def on_enterprise_updated(self, batch: Batch[dict[str, Any]]) -> None:
        found = handlers.enterprise_updated(self.store, self.rulebook.active(), batch)
        handlers.announce(self.store, self.dispatch, found)

    @timer(interval=SWEEP_SECONDS)
    def sweep_overdue(self) -> None:
        self.sweep()

    @rpc
    def sweep(self, as_of: str | None = None) -> int:
        """The overdue sweep as of a day (today: None); operators and tests run it at once."""
        day = date.fromisoformat(as_of) if as_of else clock.today()
        found = handlers.sweep(self.store, self.rulebook.active(), day)
        handlers.announce(self.store, self.dispatch, found)
        return len(found)

    @rpc
    def load_rules(self, text: str) -> dict[str, Any]:
        return handlers.load_rules(self.rulebook, text)

    @rpc
    def list_rules(self) -> dict[str, Any]:
        return views.rules_listing(self.rulebook)

    @rpc
    def simulate_rules(self, rules_id: str) -> dict[str, Any]:
        candidate = self.rulebook.get(rules_id, fresh=True)
        return handlers.simulate(self.store, candidate, clock.today())

    @rpc
    def activate_rules(self, rules_id: str) -> dict[str, Any]:
        today = clock.today()
        return handlers.activate_rules(self.store, self.rulebook, self.dispatch, rules_id, today)

    @http("POST", "/v1/events", doc=api.DOC)
    def post_events(self, request: Any) -> Response:
        principal, limiter = self.access.principal(request), self.rate_limit
        answer = api.post(self.store, self.publisher, limiter, principal, request)
        return json_response(answer, 202)

    @http("GET", "/v1/incubators/<incubator_id>", doc=schemas.INCUBATOR)
    def get_incubator(self, request: Any, incubator_id: str) -> Response:
        principal, rules = self.access.principal(request), self.rulebook.active()
        return json_response(views.scoped_incubator(self.store, rules, principal, incubator_id))

    @http("GET", "/v1/findings/summary", doc=schemas.FINDINGS)
    def findings_summary(self, request: Any) -> Response:
        return json_response(views.findings_summary(self.store, self.access.principal(request)))

    @http("GET", "/v1/progress", doc=schemas.PROGRESS)
    def get_progress(self, request: Any) -> Response:
        principal, targets = self.access.principal(request), self.targets()
        firms = partial(views.firm_counts, self.registry)
        return json_response(views.scoped_progress(self.store, principal, targets, firms))

    def targets(self) -> dict[str, Any]:
        return self.config.get("PROGRESS_TARGETS", {})

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
        rules = self.rulebook.active()
        return views.carrier_page(self.store, rules, incubator_id, past_after, limit)

    @rpc
    def carriers_of(self, unit: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
        return views.carriers_of(self.store, unit, after, limit)

    @rpc
    def progress(self) -> dict[str, Any]:
        firms = partial(views.firm_counts, self.registry)
        return views.cached_progress(self.store, self.targets(), firms)

    @rpc
    def submit_events(self, incubator_id: str, documents: list[Any]) -> dict[str, Any]:
        """The portal's spreadsheet upload: the same checks and publishing as POST /v1/events."""
        return api.submitted(self.store, self.publisher, incubator_id, documents)

    @rpc
    def legacy_keys(self) -> list[dict[str, Any]]:
        """Keys issued here before the auth service (`tracker keys import-legacy`)."""
        return self.old_keys.records()
