"""registry service: entrypoints and dependencies only; rules live in records.py."""

from __future__ import annotations

from typing import Any

from nameko.events import EventDispatcher
from werkzeug.wrappers import Response

from services.registry.records import profile_from_registration, public_view
from services.registry.schemas import EnterpriseRegistered
from services.registry.storage import EnterpriseStore
from shared import uscc as uscc_codes
from shared.envelope import CloudEvent
from shared.http import Problem, http, json_response
from shared.ingress import ingress
from shared.ops import OpsEndpoints


class RegistryService(OpsEndpoints):
    name = "registry"

    enterprises = EnterpriseStore()
    dispatch = EventDispatcher()

    @ingress("enterprise.registered", EnterpriseRegistered)
    def on_registered(self, event: CloudEvent) -> None:
        data = event.data
        record = self.enterprises.register(
            data["uscc"], profile_from_registration(data, event.time), event.time
        )
        if record is not None:
            self.dispatch("enterprise_registered", public_view(record))

    @http("GET", "/v1/enterprises/<uscc>")
    def get_enterprise(self, request: Any, uscc: str) -> Response:
        try:
            code = uscc_codes.validate(uscc)
        except uscc_codes.InvalidUscc as exc:
            raise Problem(
                400, "Bad Request", f"malformed USCC: {exc}", {"uscc": [str(exc)]}
            ) from None
        record = self.enterprises.get(code)
        if record is None:
            raise Problem(404, "Not Found", f"no enterprise {code}")
        return json_response(public_view(record))
