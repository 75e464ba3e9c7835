"""The OpenAPI documents: valid OpenAPI 3.1 by an independent validator, listing the
operations written out here, and every write and inbox read needs a key."""

import pytest
from nameko.containers import ServiceContainer
from openapi_spec_validator import validate

from services.auth.service import AuthService
from services.incubators.service import IncubatorsService
from services.notifications.service import NotificationsService
from services.portal.service import PortalService
from services.registry.service import RegistryService
from services.tiering.service import TieringService
from shared.http import HttpEntrypoint, Problem
from shared.openapi import build_document
from shared.pagination import after_cursor, decode_cursor, keyset_page

OPS = {  # every service's, answered outside the worker pool but for the document itself
    ("get", "/metrics", "metrics"),
    ("get", "/health/live", "live"),
    ("get", "/health/ready", "ready"),
    ("get", "/openapi.json", "openapi_document"),
}
OPERATIONS = {  # (method, path, operationId), written out from docs/contract.md and the routes
    RegistryService: {
        ("get", "/v1/enterprises", "list_enterprises"),
        ("get", "/v1/enterprises/{uscc}", "get_enterprise"),
    },
    TieringService: {
        ("get", "/v1/enterprises/{uscc}/tier", "get_tier"),
        ("get", "/v1/tiers/summary", "summary"),
        ("get", "/v1/tiers/changes", "changes"),
        ("get", "/v1/watchlist", "watchlist"),
    },
    IncubatorsService: {
        ("post", "/v1/events", "post_events"),
        ("get", "/v1/incubators/{incubator_id}", "get_incubator"),
        ("get", "/v1/progress", "get_progress"),
        ("get", "/v1/findings/summary", "findings_summary"),
    },
    NotificationsService: {
        ("get", "/v1/units/{unit}/alerts", "list_alerts"),
        ("post", "/v1/units/{unit}/alerts/read", "mark_read"),
        ("get", "/v1/admin/subscriptions", "list_subscriptions"),
        ("post", "/v1/admin/subscriptions", "add_subscription"),
        ("delete", "/v1/admin/subscriptions/{sub_id}", "remove_subscription"),
    },
    AuthService: set(),  # keys go over RPC
    PortalService: set(),  # its pages are HTML, not an API
}


def operations(document):
    return {
        (method, path, spec["operationId"])
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    }


@pytest.mark.parametrize("service", list(OPERATIONS), ids=lambda s: s.name)
def test_the_document_is_valid_openapi_and_lists_exactly_the_expected_operations(service):
    document = build_document(service, "test")
    validate(document)  # openapi-spec-validator: the 3.1 schema, references, path parameters
    assert document["openapi"] == "3.1.0"
    assert operations(document) == OPERATIONS[service] | OPS
    for methods in document["paths"].values():
        for spec in methods.values():
            problem = spec["responses"]["413"]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize("service", list(OPERATIONS), ids=lambda s: s.name)
def test_every_http_entrypoint_nameko_binds_is_documented(service):
    """The routes as nameko itself binds them to a container (not as the document's builder
    finds them on the class)."""
    container = ServiceContainer(service, {"AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})
    bound = {
        (e.method.lower(), e.url.replace("<", "{").replace(">", "}"), e.method_name)
        for e in container.entrypoints
        if isinstance(e, HttpEntrypoint)
    }
    assert bound and bound <= operations(build_document(service, "test"))


@pytest.mark.parametrize("service", list(OPERATIONS), ids=lambda s: s.name)
def test_every_write_and_every_inbox_read_needs_a_key(service):
    document = build_document(service, "test")
    for path, ops in document["paths"].items():
        for method, spec in ops.items():
            needs_key = spec.get("security") == [{"key": []}]
            if method != "get" or "/units/" in path or "/admin/" in path:
                assert needs_key and "401" in spec["responses"], (method, path)
            if needs_key:
                assert spec["responses"]["401"]["headers"]["WWW-Authenticate"]["required"]


def test_events_are_rate_limited_and_documented_so():
    spec = build_document(IncubatorsService, "test")["paths"]["/v1/events"]["post"]
    assert spec["responses"]["429"]["headers"]["Retry-After"]["required"]
    content = spec["requestBody"]["content"]
    assert set(content) == {
        "application/cloudevents+json",
        "application/cloudevents-batch+json",
        "application/json",  # binary mode: the event's data, its attributes in ce-* headers
    }
    assert len(content["application/json"]["schema"]["oneOf"]) == 5  # one per event type
    headers = {p["name"]: p for p in spec["parameters"] if p["in"] == "header"}
    assert set(headers) == {"ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time"}
    assert not any(p["required"] for p in headers.values())  # the other modes need none
    assert "incubator.firm_admitted" in headers["ce-type"]["schema"]["enum"]


@pytest.mark.parametrize("cursor", ["®", "%%%", "", "====", "\x00"])
def test_a_cursor_the_api_did_not_give_is_a_400(cursor):
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 400


def test_a_full_page_continues_after_its_last_key_and_a_short_one_ends():
    full = keyset_page([{"uscc": "A"}, {"uscc": "B"}], limit=2)
    assert full["items"] == [{"uscc": "A"}, {"uscc": "B"}]
    assert after_cursor({"cursor": full["next_cursor"]}) == "B"
    assert keyset_page([{"uscc": "A"}], limit=2)["next_cursor"] is None
    assert keyset_page([], limit=2) == {"items": [], "next_cursor": None}
    assert after_cursor({}) is None
