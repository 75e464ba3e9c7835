"""The portal's HTTP side: pages as HTML (Jinja2, every value escaped), errors as HTML pages,
the session cookie, CSRF checks on every POST and the sign-in rate limit."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from services.portal import session
from services.portal.repository import Backend
from shared.http import Problem, ProblemWebServer
from shared.injection import Injects
from shared.ratelimit import RateLimiter, too_many_requests

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInNeeded(Exception):
    """No valid session: the browser goes to the sign-in page (and back after)."""


def render(template: str, status: int = 200, **context: Any) -> Response:
    html = TEMPLATES.get_template(template).render(**context)
    return Response(html, status=status, mimetype="text/html", headers=SECURITY_HEADERS)


def redirect(location: str) -> Response:
    return Response(status=303, headers={**SECURITY_HEADERS, "Location": location})


def attachment(body: bytes, filename: str, mimetype: str) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Disposition": f"attachment; filename={filename}"}
    return Response(body, mimetype=mimetype, headers=headers)


class PageEntrypoint(HttpRequestHandler):
    """An HTML page on the service's one web server; errors are pages too. (Not part of the
    OpenAPI document, which lists the JSON endpoints.)"""

    server = ProblemWebServer()

    def __init__(self, method: str, url: str, **kwargs: Any):
        kwargs.setdefault("expected_exceptions", (Problem, SignInNeeded))
        super().__init__(method, url, **kwargs)

    def response_from_exception(self, exc: Exception) -> Response:
        if isinstance(exc, SignInNeeded):
            return redirect("/signin")
        if isinstance(exc, HTTPException):
            exc = Problem(exc.code or 500, exc.name, exc.description or "")
        if not isinstance(exc, Problem):
            super().response_from_exception(exc)  # logs it
            exc = Problem(500, "Internal Server Error", "错误已记录 / the error has been logged")
        response = render("error.html", exc.status, problem=exc)
        response.headers.update(exc.headers)
        return response


page = PageEntrypoint.decorator


class Sessions(Injects["Sessions"]):
    """The signing secret (`PORTAL_SESSION_SECRET`, else a random one per process: sessions
    then end when it restarts and are not shared between replicas), session lifetime, cookie
    flags, and the sign-in rate limit (per client address, in this process's memory)."""

    def setup(self) -> None:
        config = self.container.config
        secret = str(config.get("PORTAL_SESSION_SECRET") or "")
        self.secret = secret.encode() if secret else secrets.token_bytes(32)
        self.seconds = int(config.get("PORTAL_SESSION_SECONDS") or 28_800)
        self.secure = str(config.get("PORTAL_COOKIE_SECURE", "false")).lower() == "true"
        self.upload_bytes = int(config.get("PORTAL_UPLOAD_MAX_BYTES") or 524_288)
        self.upload_rows = int(config.get("PORTAL_UPLOAD_MAX_ROWS") or 2_000)
        rate = config.get("PORTAL_SIGNIN_RATE") or {}
        self.limiter = RateLimiter(float(rate.get("per_second", 0.2)), float(rate.get("burst", 5)))

    def get_dependency(self, worker_ctx: Any) -> Sessions:
        return self

    def upload_limits(self) -> dict[str, int]:
        return {"max_bytes": self.upload_bytes, "max_rows": self.upload_rows}

    # sessions -------------------------------------------------------------------------------
    def current(self, request: Any) -> dict[str, Any] | None:
        return session.unsign(self.secret, request.cookies.get(session.SESSION_COOKIE))

    def signed_in(self, request: Any, calls: Backend) -> tuple[dict[str, Any], dict[str, Any]]:
        """(principal, session) of a valid session whose key is still active."""
        current = self.current(request)
        principal = calls.principal_of(str(current["kid"])) if current else None
        if principal is None or current is None:
            raise SignInNeeded()
        return principal, current

    def checked_post(self, request: Any, calls: Backend) -> tuple[dict[str, Any], Any]:
        """(principal, form) of a POST from a page of this session (its CSRF token)."""
        principal, current = self.signed_in(request, calls)
        if not session.csrf_matches(current, request.form.get("csrf")):
            raise Problem(403, "Forbidden", "表单已过期，请重试 / the form has expired; try again")
        return principal, request.form

    def open(self, response: Response, key_id: str) -> Response:
        token = session.new_session(self.secret, key_id, self.seconds)
        response.set_cookie(
            session.SESSION_COOKIE, token, **session.cookie_attributes(self.seconds, self.secure)
        )
        response.delete_cookie(session.SIGNIN_COOKIE)
        return response

    def close(self, response: Response) -> Response:
        response.delete_cookie(session.SESSION_COOKIE, httponly=True, samesite="Strict")
        return response

    # the sign-in form -----------------------------------------------------------------------
    def signin_form(self, status: int = 200, **context: Any) -> Response:
        cookie, token = session.new_signin_token(self.secret)
        response = render("signin.html", status, csrf=token, **context)
        attributes = session.cookie_attributes(session.SIGNIN_SECONDS, self.secure)
        response.set_cookie(session.SIGNIN_COOKIE, cookie, **attributes)
        return response

    def admit_attempt(self, request: Any) -> None:
        """One sign-in attempt per token of the client's bucket, else 429."""
        wait = self.limiter.take(request.remote_addr or "unknown")
        if wait:
            problem = too_many_requests(wait)
            problem.detail = "尝试次数过多，请稍后再试 / too many attempts; " + problem.detail
            raise problem

    def signin_token_ok(self, request: Any) -> bool:
        return session.signin_token_matches(
            self.secret, request.cookies.get(session.SIGNIN_COOKIE), request.form.get("csrf")
        )


def page_context(principal: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """What every signed-in page's layout needs."""
    return {"me": principal, "csrf": current["csrf"], "quote": quote}
