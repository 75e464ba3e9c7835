"""registry service: entrypoints and dependencies only; the use case is in handlers.py, the
record's rules in records.py."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc
from werkzeug.wrappers import Response

from services.registry import handlers, records
from services.registry.schemas import EVENT_SCHEMAS, EnterprisePage, EnterpriseQuery, EnterpriseView
from services.registry.storage import EnterpriseStore
from shared.batches import Batch
from shared.envelope import CloudEvent
from shared.events import EventDispatcher, subscribe
from shared.http import Problem, http, json_response, load_query, path_uscc
from shared.ingress import ingress
from shared.openapi import Doc
from shared.ops import OpsEndpoints
from shared.pagination import after_cursor, keyset_page


class RegistryService(OpsEndpoints):
    name = "registry"

    enterprises = EnterpriseStore()
    dispatch = EventDispatcher()

    @ingress(EVENT_SCHEMAS)
    def on_events(self, batch: Batch[CloudEvent]) -> None:
        handlers.on_events(self.enterprises, batch, self.announce)

    def announce(self, snapshots: list[dict[str, Any]]) -> None:
        self.dispatch.many(("enterprise_updated", snapshot) for snapshot in snapshots)

    @subscribe("incubators", "snapshots_wanted")
    def resend_snapshots(self, batch: Batch[dict[str, Any]]) -> None:
        """Another service needs firms' current snapshots (incubators, for a firm it has just
        begun to incubate): they are announced again, at the version stored."""
        self.announce(handlers.current_snapshots(self.enterprises, batch))

    @rpc
    def progress_facts(self) -> dict[str, Any]:
        """What the plan's progress counts of the firms (incubators' `GET /v1/progress`)."""
        return self.enterprises.progress_counts()

    @http(
        "GET",
        "/v1/enterprises/<uscc>",
        doc=Doc("one firm's record", EnterpriseView, errors=(400,)),
    )
    def get_enterprise(self, request: Any, uscc: str) -> Response:
        code = path_uscc(uscc)
        record = self.enterprises.get(code)
        if record is None:
            raise Problem(404, "Not Found", f"no enterprise {code}")
        return json_response(records.snapshot(record))

    @http(
        "GET",
        "/v1/enterprises",
        doc=Doc("firms in USCC order, filtered", EnterprisePage, query=EnterpriseQuery),
    )
    def list_enterprises(self, request: Any) -> Response:
        query = load_query(request, EnterpriseQuery())
        page = self.enterprises.page(records.filters(query), after_cursor(query), query["limit"])
        return json_response(keyset_page([records.snapshot(r) for r in page], query["limit"]))
