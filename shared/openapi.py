"""OpenAPI 3.1 documents generated from the services' own routes and marshmallow schemas.

Each `@http(..., doc=Doc(...))` entrypoint says what it answers; `build_document` reads every
HTTP entrypoint of a service class, so the document cannot list a route the service lacks.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields
from nameko.extensions import Extension

from shared.http import MAX_BODY_BYTES, PROBLEM_TYPE, HttpEntrypoint

TEXT = "text"  # a `Doc.response` that is plain text (the Prometheus exposition format)
KEY_SCHEME = "key"
PATH_PARAMETER = re.compile(r"<(?:[a-z]+:)?([A-Za-z_]+)>")
TITLES = {
    400: "malformed input: `errors` names each field",
    401: "no key, or not a valid one",
    403: "the key's owner may not do this",
    404: "unknown resource or path",
    413: f"body larger than {MAX_BODY_BYTES} bytes",
    415: "unsupported media type",
    422: "invalid content: `errors` names each field",
    429: "too many requests for this key; see Retry-After",
    503: "a dependency (broker or database) cannot be reached",
}
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    429: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True}},
}


class ProblemSchema(Schema):
    """RFC 9457 problem document."""

    type = fields.String(required=True)
    status = fields.Integer(required=True)
    title = fields.String(required=True)
    detail = fields.String()
    errors = fields.Dict(keys=fields.String())


@dataclass(frozen=True)
class Doc:
    """What one HTTP operation takes and answers, for its OpenAPI document."""

    summary: str
    response: type[Schema] | str | None  # the success body: a schema, TEXT, or None (no body)
    status: int = 200
    errors: tuple[int, ...] = ()  # problem statuses besides 413, 404 on paths, 401 with keys
    query: type[Schema] | None = None
    body: dict[str, Any] = field(default_factory=dict)  # media type -> schema or JSON schema
    key: bool = False  # needs `Authorization: Bearer <key>`
    path: dict[str, dict[str, Any]] = field(default_factory=dict)  # path parameter schemas
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)  # optional request headers


@dataclass(frozen=True)
class DocumentedRoute:
    """A route as the document lists it; `method_name` is its operationId."""

    method: str
    url: str
    method_name: str
    doc: Doc | None


def http_entrypoints(service_cls: type) -> list[DocumentedRoute]:
    """Every route of the service: its `@http` entrypoints (named after their methods: nameko
    names an entrypoint only when it binds it to a container, and the document is built from
    the class), and the routes that extensions answer themselves (`routes`, e.g.
    shared.health's probes)."""
    found: list[DocumentedRoute] = []
    for name, member in inspect.getmembers(service_cls):
        if inspect.isfunction(member):
            declared = getattr(member, "nameko_entrypoints", ())
            found += [
                DocumentedRoute(e.method, e.url, name, e.doc)
                for e in declared
                if isinstance(e, HttpEntrypoint)
            ]
        elif isinstance(member, Extension):
            found += [
                DocumentedRoute(r.method, r.url, r.method_name, r.doc)
                for r in getattr(member, "routes", ())
            ]
    return sorted(found, key=lambda e: (e.url, e.method))


def problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": TITLES.get(status, "error"),
        "content": {PROBLEM_TYPE: {"schema": "ProblemSchema"}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def success_response(doc: Doc) -> dict[str, Any]:
    if doc.response is None:
        return {"description": "done"}
    if doc.response == TEXT:
        return {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}
    return {"description": "ok", "content": {"application/json": {"schema": doc.response}}}


def operation(entrypoint: DocumentedRoute) -> tuple[str, dict[str, Any]]:
    doc: Doc | None = entrypoint.doc
    if doc is None:
        raise ValueError(f"{entrypoint.method} {entrypoint.url} has no doc=Doc(...)")
    names = PATH_PARAMETER.findall(entrypoint.url)
    path = PATH_PARAMETER.sub(r"{\1}", entrypoint.url)
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": n, "required": True, "schema": doc.path.get(n, {"type": "string"})}
        for n in names
    ]
    if doc.query is not None:
        parameters.append({"in": "query", "schema": doc.query})
    parameters += [
        {"in": "header", "name": name, "required": False, **spec}
        for name, spec in doc.headers.items()
    ]
    statuses = {*doc.errors, 413}
    if names:
        statuses.add(404)
    if doc.key:
        statuses.add(401)
    if doc.query is not None or doc.body:
        statuses.add(400)
    responses = {str(doc.status): success_response(doc)}
    responses |= {str(s): problem_response(s) for s in sorted(statuses)}
    spec: dict[str, Any] = {
        "summary": doc.summary,
        "operationId": entrypoint.method_name,
        "parameters": parameters,
        "responses": responses,
    }
    if doc.body:
        spec["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schema} for media, schema in doc.body.items()},
        }
    if doc.key:
        spec["security"] = [{KEY_SCHEME: []}]
    return path, spec


class NamedService(Protocol):
    """A nameko service class, named by its `name`."""

    name: str


def build_document(service_cls: type[NamedService], version: str) -> dict[str, Any]:
    spec = APISpec(
        title=f"tracker {service_cls.name}",
        version=version,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
    )
    spec.components.security_scheme(
        KEY_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "an API key, `tk_<id>.<secret>`"},
    )
    paths: dict[str, dict[str, Any]] = {}
    for entrypoint in http_entrypoints(service_cls):
        path, spec_operation = operation(entrypoint)
        paths.setdefault(path, {})[entrypoint.method.lower()] = spec_operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
