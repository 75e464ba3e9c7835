"""registry service: entrypoints and dependencies only; the rules live in changes.py/records.py."""

from __future__ import annotations

from typing import Any

from nameko.events import EventDispatcher
from nameko.rpc import rpc
from werkzeug.wrappers import Response

from services.registry import changes, records, views
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
from shared.auth import Access
from shared.envelope import CloudEvent
from shared.http import http, json_response, load_query, path_uscc
from shared.ingress import ingress
from shared.openapi import Doc
from shared.ops import OpsEndpoints
from shared.pagination import after_cursor, keyset_page


class RegistryService(OpsEndpoints):
    name = "registry"

    enterprises = EnterpriseStore()
    dispatch = EventDispatcher()
    access = Access()

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
        doc=Doc("one firm's record", EnterpriseView, errors=(400, 403), key=True),
    )
    def get_enterprise(self, request: Any, uscc: str) -> Response:
        principal = self.access.principal(request)
        code = path_uscc(uscc)
        return json_response(views.enterprise(self.enterprises, self.access, principal, code))

    @http(
        "GET",
        "/v1/enterprises",
        doc=Doc(
            "firms in USCC order, filtered",
            EnterprisePage,
            query=EnterpriseQuery,
            errors=(403,),
            key=True,
        ),
    )
    def list_enterprises(self, request: Any) -> Response:
        principal = self.access.principal(request)
        query = views.scoped_query(principal, load_query(request, EnterpriseQuery()))
        items = views.page(self.enterprises, query, after_cursor(query))
        return json_response(keyset_page(items, query["limit"]))

    @rpc
    def firm(self, uscc: str) -> dict[str, Any] | None:
        """The portal's read of one firm (it checks the user's reach itself)."""
        return views.firm(self.enterprises, uscc)

    @rpc
    def firm_summaries(self, usccs: list[str]) -> dict[str, dict[str, Any]]:
        return views.summaries(self.enterprises, usccs)
