"""registry service: entrypoints and dependencies only; the use cases are in handlers.py, the
answers in views.py, the record's rules in records.py."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc
from werkzeug.wrappers import Response

from services.registry import handlers, schemas, views
from services.registry.storage import EnterpriseStore
from shared.auth import Access
from shared.batches import Batch
from shared.envelope import CloudEvent
from shared.events import EventDispatcher, subscribe
from shared.http import http, json_response, load_query, path_uscc
from shared.ingress import ingress
from shared.ops import OpsEndpoints


class RegistryService(OpsEndpoints):
    name = "registry"

    enterprises = EnterpriseStore()
    dispatch = EventDispatcher()
    access = Access()

    def announce(self, snapshots: list[dict[str, Any]]) -> None:
        self.dispatch.many(("enterprise_updated", snapshot) for snapshot in snapshots)

    @ingress(schemas.EVENT_SCHEMAS)
    def on_events(self, batch: Batch[CloudEvent]) -> None:
        handlers.apply_events(self.enterprises, batch, self.announce)

    @subscribe("incubators", "snapshots_wanted")
    def resend_snapshots(self, batch: Batch[dict[str, Any]]) -> None:
        """Another service needs firms' current snapshots (incubators, for a firm it has just
        begun to incubate)."""
        handlers.resend_snapshots(self.enterprises, batch, self.announce)

    @http("GET", "/v1/enterprises/<uscc>", doc=schemas.ENTERPRISE)
    def get_enterprise(self, request: Any, uscc: str) -> Response:
        principal, code = self.access.principal(request), path_uscc(uscc)
        return json_response(views.enterprise(self.enterprises, self.access, principal, code))

    @http("GET", "/v1/enterprises", doc=schemas.ENTERPRISES)
    def list_enterprises(self, request: Any) -> Response:
        principal = self.access.principal(request)
        query = load_query(request, schemas.EnterpriseQuery())
        return json_response(views.enterprises(self.enterprises, principal, query))

    @rpc
    def founding_dates(self, usccs: list[str]) -> dict[str, str]:
        """When each of these firms was founded, where the registry knows it (incubators: an
        admission before that cannot be true)."""
        return views.founding_dates(self.enterprises, usccs)

    @rpc
    def progress_facts(self) -> dict[str, Any]:
        """What the plan's progress counts of the firms (incubators' `GET /v1/progress`)."""
        return self.enterprises.progress_counts()

    @rpc
    def firm(self, uscc: str) -> dict[str, Any] | None:
        """The portal's read of one firm (it checks the user's reach itself)."""
        return views.firm(self.enterprises, uscc)

    @rpc
    def firm_summaries(self, usccs: list[str]) -> dict[str, dict[str, Any]]:
        return views.summaries(self.enterprises, usccs)
