"""registry service: entrypoints and dependencies only; the rules live in changes.py/records.py."""

from __future__ import annotations

from typing import Any

from nameko.events import EventDispatcher
from werkzeug.wrappers import Response

from services.registry import changes, records
from services.registry.schemas import (
    AnnualReport,
    EnterprisePage,
    EnterpriseQuery,
    EnterpriseRegistered,
    EnterpriseView,
    FundingRound,
    StatusChanged,
)
from services.registry.storage import EnterpriseStore
from shared.envelope import CloudEvent
from shared.http import Problem, http, json_response, load_query, path_uscc
from shared.ingress import ingress
from shared.openapi import Doc
from shared.ops import OpsEndpoints
from shared.pagination import after_cursor, keyset_page


class RegistryService(OpsEndpoints):
    name = "registry"

    enterprises = EnterpriseStore()
    dispatch = EventDispatcher()

    @ingress("enterprise.registered", EnterpriseRegistered)
    def on_registered(self, event: CloudEvent) -> None:
        record = self.apply(event)
        if record is not None:
            self.dispatch("enterprise_registered", records.snapshot(record))

    @ingress("enterprise.annual_report", AnnualReport)
    def on_annual_report(self, event: CloudEvent) -> None:
        self.apply(event)

    @ingress("enterprise.funding_round", FundingRound)
    def on_funding_round(self, event: CloudEvent) -> None:
        self.apply(event)

    @ingress("enterprise.status_changed", StatusChanged)
    def on_status_changed(self, event: CloudEvent) -> None:
        self.apply(event)

    def apply(self, event: CloudEvent) -> dict[str, Any] | None:
        """Store the event's change; announce the new snapshot when something changed."""
        record = changes.apply(self.enterprises, event)
        if record is not None:
            self.dispatch("enterprise_updated", records.snapshot(record))
        return record

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
