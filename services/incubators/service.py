"""incubators service: entrypoints and dependencies only; the rules in lifecycle.py, findings.py
and progress.py (their numbers are data: rules.py, rulesets/); use cases in handlers.py and
api.py (POST /v1/events); answers in views.py."""

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
from services.incubators.rules import IncubatorRules, parse_rules
from services.incubators.storage import DEFAULT_RULES, IncubatorStore, RulesStore
from shared import clock, scope
from shared.auth import Access, ask
from shared.batches import Batch
from shared.envelope import CloudEvent
from shared.events import EventDispatcher, subscribe
from shared.gauges import StorageGauges
from shared.http import Problem, http, json_response
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
    rulebook = RulesStore()
    old_keys = LegacyKeyStore()
    access = Access()
    rate_limit = RateLimit("EVENTS_RATE_LIMIT")
    publisher = ConfirmedPublisher()
    dispatch = EventDispatcher()
    registry = RpcProxy("registry")
    gauges = StorageGauges(storage_gauges)

    @property
    def rules(self) -> IncubatorRules:
        return self.rulebook.active(self.config.get("INCUBATOR_RULES") or DEFAULT_RULES)

    def announce(self, found: list[dict[str, Any]]) -> None:
        """Findings raised, withdrawn or raised again, to their units (an id per state)."""
        if found:
            self.dispatch.many(("incubator_finding", views.announced(f)) for f in found)
            self.store.mark_announced(found)

    def founding_dates(self, usccs: list[str]) -> dict[str, str]:
        """When firms were founded, as the registry knows (nothing, if it does not answer:
        findings judge their admissions once their facts arrive)."""
        try:
            return dict(ask(self.registry, "founding_dates", usccs))
        except Problem:
            return {}

    @ingress(schemas.EVENT_SCHEMAS)
    def on_events(self, batch: Batch[CloudEvent]) -> None:
        found = handlers.on_events(self.store, self.rules, batch, self.founding_dates)
        wanted = handlers.firms_without_facts(self.store, batch)
        if wanted:
            self.dispatch("snapshots_wanted", {"usccs": wanted})
        self.announce(found)

    @subscribe("registry", "enterprise_updated")
    def on_enterprise_updated(self, batch: Batch[dict[str, Any]]) -> None:
        self.announce(handlers.enterprise_updated(self.store, self.rules, batch))

    @timer(interval=SWEEP_SECONDS)
    def sweep_overdue(self) -> None:
        self.announce(handlers.sweep(self.store, self.rules, clock.today()))

    @rpc
    def sweep(self, as_of: str | None = None) -> int:
        """Operators (and tests) run the overdue sweep as of a given day."""
        day = date.fromisoformat(as_of) if as_of else clock.today()
        found = handlers.sweep(self.store, self.rules, day)
        self.announce(found)
        return len(found)

    @rpc
    def load_rules(self, text: str) -> dict[str, Any]:
        rules = parse_rules(text)
        self.rulebook.store(rules)
        return views.rules_loaded(rules)

    @rpc
    def list_rules(self) -> dict[str, Any]:
        return {"loaded": self.rulebook.listing(), "active": self.rulebook.active_id(fresh=True)}

    @rpc
    def simulate_rules(self, rules_id: str) -> dict[str, Any]:
        candidate = self.rulebook.get(rules_id, fresh=True)
        return handlers.simulate(self.store, candidate, clock.today())

    @rpc
    def activate_rules(self, rules_id: str) -> dict[str, Any]:
        rules = self.rulebook.get(rules_id, fresh=True)
        self.rulebook.set_active(rules)
        found = handlers.resync(self.store, rules, clock.today())
        self.announce(found)
        return {"rules": rules.label, "findings_changed": len(found)}

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
        found = views.scoped_incubator(self.store, self.rules, principal, incubator_id)
        return json_response(found)

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
        return views.carrier_page(self.store, self.rules, incubator_id, past_after, limit)

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
