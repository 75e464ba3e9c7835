"""portal service: the web pages for city bureaus and carriers (port 8005). Entrypoints and
dependencies only: pages.py reads (over RPC) and checks reach, web.py renders and keeps the
session, sheets.py and tables.py do the spreadsheets."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.portal import pages, reach, sheets, tables
from services.portal.backends import Backends
from services.portal.web import Sessions, attachment, page, page_context, redirect, render
from shared.ops import OpsEndpoints

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
            return self.sessions.signin_form(
                403, error="表单已过期，请重试 / The form expired; try again."
            )
        key = (request.form.get("key") or "").strip()[:300]
        principal = self.calls.call("auth", "verify", key) if key else None
        if principal is None:
            return self.sessions.signin_form(401, error="密钥无效 / The key is not valid.")
        if not reach.may_sign_in(principal):
            return self.sessions.signin_form(
                403, error="此密钥不能登录门户 / This key cannot sign in here."
            )
        return self.sessions.open(redirect(reach.home(principal)), principal["key_id"])

    @page("POST", "/signout")
    def signout(self, request: Any) -> Response:
        self.sessions.checked_post(request, self.calls)
        return self.sessions.close(redirect("/signin"))

    @page("GET", "/units/<unit>")
    def unit(self, request: Any, unit: str) -> Response:
        context = pages.unit_overview(self.calls, self.me(request), unit, request.args)
        return self.signed_in_page(request, "unit.html", context)

    @page("GET", "/units/<unit>/download/<name>.<fmt>")
    def download(self, request: Any, unit: str, name: str, fmt: str) -> Response:
        table, rows = pages.download_rows(self.calls, self.me(request), unit, name, request.args)
        if fmt == "csv":
            return attachment(tables.as_csv(table, rows), f"{unit}-{name}.csv", "text/csv")
        if fmt == "xlsx":
            return attachment(tables.as_xlsx(table, rows), f"{unit}-{name}.xlsx", XLSX)
        raise pages.bad_request("format", "csv or xlsx")

    @page("GET", "/units/<unit>/inbox")
    def inbox(self, request: Any, unit: str) -> Response:
        context = pages.inbox(self.calls, self.me(request), unit, request.args)
        return self.signed_in_page(request, "inbox.html", context)

    @page("POST", "/units/<unit>/inbox/read")
    def mark_read(self, request: Any, unit: str) -> Response:
        principal, form = self.sessions.checked_post(request, self.calls)
        pages.mark_read(self.calls, principal, unit, form)
        return redirect(f"/units/{unit}/inbox")

    @page("GET", "/firms/<uscc>")
    def firm(self, request: Any, uscc: str) -> Response:
        context = pages.firm_page(self.calls, self.me(request), uscc)
        return self.signed_in_page(request, "firm.html", context)

    @page("GET", "/carriers/<incubator_id>")
    def carrier(self, request: Any, incubator_id: str) -> Response:
        context = pages.carrier_page(self.calls, self.me(request), incubator_id, request.args)
        return self.signed_in_page(request, "carrier.html", context)

    @page("GET", "/carriers/<incubator_id>/upload")
    def upload_form(self, request: Any, incubator_id: str) -> Response:
        reach.require_own_carrier(self.me(request), incubator_id)
        return self.signed_in_page(request, "upload.html", {"incubator_id": incubator_id})

    @page("POST", "/carriers/<incubator_id>/upload")
    def upload(self, request: Any, incubator_id: str) -> Response:
        principal, _ = self.sessions.checked_post(request, self.calls)
        upload = request.files.get("file")
        limits = {"max_bytes": self.sessions.upload_bytes, "max_rows": self.sessions.upload_rows}
        result = pages.upload(
            self.calls,
            principal,
            incubator_id,
            upload.filename if upload else "",
            upload.read(limits["max_bytes"] + 1) if upload else b"",
            limits,
        )
        context = {"incubator_id": incubator_id, "result": result}
        return self.signed_in_page(request, "upload.html", context)

    @page("GET", "/template.xlsx")
    def template(self, request: Any) -> Response:
        self.me(request)
        return attachment(sheets.template(), "tracker-carrier-template.xlsx", XLSX)
