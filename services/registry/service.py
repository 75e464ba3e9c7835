"""registry service: entrypoints and dependencies only; the use case is in handlers.py, the
record's rules in records.py."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.registry import handlers, records
from services.registry.schemas import EVENT_SCHEMAS, EnterprisePage, EnterpriseQuery, EnterpriseView
from services.registry.storage import EnterpriseStore
from shared.batches import Batch
from shared.envelope import CloudEvent
from shared.events import EventDispatcher
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
