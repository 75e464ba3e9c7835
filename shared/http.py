"""HTTP entrypoints whose every error is `application/problem+json` (RFC 9457)."""

from __future__ import annotations

import json
import logging
from typing import Any

from marshmallow import ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from shared.domain import codes, uscc
from shared.envelope import flatten_errors

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"
MAX_BODY_BYTES = 1_048_576


class Problem(Exception):
    """An HTTP error to report as a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers = errors, headers or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"type": "about:blank", "status": self.status, "title": self.title}
        if self.detail:
            body["detail"] = self.detail
        if self.errors is not None:
            body["errors"] = self.errors
        return Response(
            json.dumps(body, ensure_ascii=False),
            status=self.status,
            mimetype=PROBLEM_TYPE,
            headers=self.headers,
        )


def read_json(request: Any) -> Any:
    """The request body as JSON (an empty body is null), or a 400 that says why it is not."""
    try:
        return json.loads(request.get_data(cache=False) or b"null")
    except ValueError as exc:
        raise Problem(
            400, "Bad Request", "the body is not valid JSON", {"body": [str(exc)]}
        ) from None
    except RecursionError:
        raise Problem(
            400, "Bad Request", "the body is not valid JSON", {"body": ["nested too deeply"]}
        ) from None


def sent_content_type(request: Any) -> str | None:
    """The Content-Type the client sent, or None. eventlet's WSGI server puts text/plain in the
    environ when there is none (the `email` package's default), so its raw headers decide."""
    raw = request.environ.get("headers_raw")
    if raw is None:  # another server: the environ says what was sent
        return request.headers.get("Content-Type")
    return next((value for name, value in raw if name.lower() == "content-type"), None)


def load_query(request: Any, schema: Any) -> dict[str, Any]:
    """The query string validated by a marshmallow schema, or a 400 naming each bad field."""
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise Problem(
            400, "Bad Request", "invalid query parameters", flatten_errors(exc.messages)
        ) from None


def path_uscc(raw: str) -> str:
    """A USCC from a URL path, normalised, or a 400 that says what is wrong with it."""
    try:
        return uscc.validate(raw)
    except uscc.InvalidUscc as exc:
        raise Problem(400, "Bad Request", f"malformed USCC: {exc}", {"uscc": [str(exc)]}) from None


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
    )


class RoutedRequest(Request):
    """A request with the values its URL rule matched, where nameko's HttpRequestHandler reads
    them (nameko's own WsgiApp sets the same attribute on a plain Request)."""

    path_values: dict[str, Any]


class ProblemWsgiApp(WsgiApp):
    """nameko's WSGI app, with body-size limits and routing errors as problem documents."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = environ.get("CONTENT_LENGTH") or "0"
        if codes.is_digits(length) and int(length) > MAX_BODY_BYTES:
            problem = Problem(
                413, "Content Too Large", f"request bodies are limited to {MAX_BODY_BYTES} bytes"
            )
            return problem.response()(environ, start_response)
        request = RoutedRequest(environ, shallow=True)
        try:
            provider, values = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            problem = Problem(exc.code or 404, exc.name, exc.description or "")
            return problem.response()(environ, start_response)
        request.path_values = values
        return provider.handle_request(request)(environ, start_response)


class ProblemWebServer(WebServer):
    def get_wsgi_app(self) -> Any:
        return ProblemWsgiApp(self)


class HttpEntrypoint(HttpRequestHandler):
    server = ProblemWebServer()

    def __init__(self, method: str, url: str, doc: Any = None, **kwargs: Any):
        kwargs.setdefault("expected_exceptions", (Problem,))  # logged as warnings, not errors
        super().__init__(method, url, **kwargs)
        self.doc = doc  # a shared.openapi.Doc: what the route takes and answers

    def response_from_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Problem):
            return exc.response()
        if isinstance(exc, HTTPException):
            return Problem(exc.code or 500, exc.name, exc.description or "").response()
        log.exception("unhandled error in %s", self.method_name, exc_info=exc)
        return Problem(500, "Internal Server Error", "the error has been logged").response()


http = HttpEntrypoint.decorator
