"""The OpenAPI documents: built from every route, and every write and inbox read needs a key."""

import pytest

from services.incubators.service import IncubatorsService
from services.notifications.service import NotificationsService
from services.registry.service import RegistryService
from services.tiering.service import TieringService
from shared.http import Problem
from shared.openapi import build_document, http_entrypoints
from shared.ops import DocumentSchema
from shared.pagination import after_cursor, decode_cursor, keyset_page

SERVICES = [RegistryService, TieringService, IncubatorsService, NotificationsService]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_route_is_in_the_document(service):
    document = build_document(service, "test")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    routes = {
        (e.url.replace("<", "{").replace(">", "}"), e.method.lower())
        for e in http_entrypoints(service)
    }
    assert documented == routes
    assert {"/openapi.json", "/metrics", "/health/live", "/health/ready"} <= set(document["paths"])
    assert DocumentSchema().validate(document) == {}  # what GET /openapi.json says it answers
    for ops in document["paths"].values():
        for spec in ops.values():
            problem = spec["responses"]["413"]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
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
