"""portal service: the web pages for city bureaus and carriers (port 8005). Entrypoints and
dependencies only: views.py reads (over RPC) and checks reach, handlers.py does what forms
change, web.py renders and keeps the session, sheets.py and tables.py do the spreadsheets."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.portal import handlers, reach, sheets, views
from services.portal.backends import Backends
from services.portal.web import Sessions, attachment, page, page_context, redirect, render
from shared.ops import OpsEndpoints

EXPIRED = "表单已过期，请重试 / The form expired; try again."


class PortalService(OpsEndpoints):
    name = "portal"

    health_dependencies = ("broker",)  # no database of its own: ready when the broker answers
    calls = Backends()
    sessions = Sessions()

    def signed_in_page(self, request: Any, template: str, context: dict[str, Any]) -> Response:
        principal, current = self.sessions.signed_in(request, self.calls)
        return render(template, **context, **page_context(principal, current))

    def me(self, request: Any) -> Any:
        return self.sessions.signed_in(request, self.calls)[0]

    @page("GET", "/")
    def home(self, request: Any) -> Response:
        return redirect(reach.home(self.me(request)))

    @page("GET", "/signin")
    def signin_form(self, request: Any) -> Response:
        return self.sessions.signin_form()

    @page("POST", "/signin")
    def signin(self, request: Any) -> Response:
        self.sessions.admit_attempt(request)
        if not self.sessions.signin_token_ok(request):
            return self.sessions.signin_form(403, error=EXPIRED)
        try:
            principal = handlers.sign_in(self.calls, request.form.get("key"))
        except handlers.SignInRefused as refused:
            return self.sessions.signin_form(refused.status, error=refused.message)
        return self.sessions.open(redirect(reach.home(principal)), principal["key_id"])

    @page("POST", "/signout")
    def signout(self, request: Any) -> Response:
        self.sessions.checked_post(request, self.calls)
        return self.sessions.close(redirect("/signin"))

    @page("GET", "/units/<unit>")
    def unit(self, request: Any, unit: str) -> Response:
        context = views.unit_overview(self.calls, self.me(request), unit, request.args)
        return self.signed_in_page(request, "unit.html", context)

    @page("GET", "/units/<unit>/download/<name>.<fmt>")
    def download(self, request: Any, unit: str, name: str, fmt: str) -> Response:
        principal = self.me(request)
        return attachment(*views.download(self.calls, principal, unit, name, fmt, request.args))

    @page("GET", "/units/<unit>/inbox")
    def inbox(self, request: Any, unit: str) -> Response:
        context = views.inbox(self.calls, self.me(request), unit, request.args)
        return self.signed_in_page(request, "inbox.html", context)

    @page("POST", "/units/<unit>/inbox/read")
    def mark_read(self, request: Any, unit: str) -> Response:
        principal, form = self.sessions.checked_post(request, self.calls)
        handlers.mark_read(self.calls, principal, unit, form)
        return redirect(f"/units/{unit}/inbox")

    @page("GET", "/firms/<uscc>")
    def firm(self, request: Any, uscc: str) -> Response:
        context = views.firm_page(self.calls, self.me(request), uscc)
        return self.signed_in_page(request, "firm.html", context)

    @page("GET", "/carriers/<incubator_id>")
    def carrier(self, request: Any, incubator_id: str) -> Response:
        context = views.carrier_page(self.calls, self.me(request), incubator_id, request.args)
        return self.signed_in_page(request, "carrier.html", context)

    @page("GET", "/carriers/<incubator_id>/upload")
    def upload_form(self, request: Any, incubator_id: str) -> Response:
        reach.require_own_carrier(self.me(request), incubator_id)
        return self.signed_in_page(request, "upload.html", {"incubator_id": incubator_id})

    @page("POST", "/carriers/<incubator_id>/upload")
    def upload(self, request: Any, incubator_id: str) -> Response:
        principal, _ = self.sessions.checked_post(request, self.calls)
        file, limits = request.files.get("file"), self.sessions.upload_limits()
        result = handlers.upload(self.calls, principal, incubator_id, file, limits)
        context = {"incubator_id": incubator_id, "result": result}
        return self.signed_in_page(request, "upload.html", context)

    @page("GET", "/template.xlsx")
    def template(self, request: Any) -> Response:
        self.me(request)
        return attachment(sheets.template(), "tracker-carrier-template.xlsx", views.XLSX)
