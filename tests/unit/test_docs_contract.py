"""docs/contract.md against the code: the event types the services take, the fields of each
type's `data` (and which are required), and the `/v1` routes they serve, in both directions.
A type, field or route added, renamed or dropped on one side and not the other fails here."""

from __future__ import annotations

import importlib
import inspect
import re
from functools import cache
from pathlib import Path

import pytest

from shared.ingress.entrypoint import IngressEntrypoint
from shared.openapi import http_entrypoints
from shared.ops import OpsEndpoints

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"
SERVICES = ROOT / "services"

EVENT_HEADING = re.compile(r"^### `([a-z]+\.[a-z_]+)`\s*$")
FIELD_ROW = re.compile(r"^\| `([a-z0-9_]+)` \|([^|]*)\|([^|]*)\|")
ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/v1/[^`\s?]*)[^`]*`")
ROUTE_ROW = re.compile(r"^\| ([a-z]+) \| `(GET|POST|PUT|PATCH|DELETE) (/v1/[^`\s?]*)`")
DOTTED = re.compile(r"`([a-z]+)\.([a-z_]+)`")
OPS_PATHS = ("/metrics", "/health/live", "/health/ready", "/openapi.json")


@cache
def service_classes() -> tuple[type, ...]:
    """Every service class under services/: the OpsEndpoints subclass each service.py defines."""
    found = []
    for path in sorted(SERVICES.glob("*/service.py")):
        module = importlib.import_module(f"services.{path.parent.name}.service")
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, OpsEndpoints) and cls.__module__ == module.__name__
        ]
    assert found, f"no service classes found under {SERVICES}"
    return tuple(found)


def accepted_event_schemas() -> dict[str, object]:
    """Event type -> schema instance, from every service's `@ingress(...)` entrypoints."""
    schemas: dict[str, object] = {}
    for cls in service_classes():
        for _, member in inspect.getmembers(cls, inspect.isfunction):
            for entrypoint in getattr(member, "nameko_entrypoints", ()):
                if isinstance(entrypoint, IngressEntrypoint):
                    schemas.update(entrypoint.schemas)
    assert schemas, "no service declares an @ingress entrypoint"
    return schemas


def v1_routes() -> set[tuple[str, str, str]]:
    """(service, METHOD, /v1/path with {params}) of every `/v1` HTTP route the services serve."""
    routes = set()
    for cls in service_classes():
        for entrypoint in http_entrypoints(cls):
            path = re.sub(r"<(?:[a-z]+:)?([A-Za-z_]+)>", r"{\1}", entrypoint.url)
            if path.startswith("/v1/"):
                routes.add((cls.name, entrypoint.method.upper(), path))
    assert routes, "no /v1 routes found"
    return routes


def contract_text() -> str:
    return CONTRACT.read_text(encoding="utf-8")


def documented_fields() -> dict[str, dict[str, str]]:
    """Event type -> {field: its `required` cell}, from each `### \\`type\\`` section's table."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in contract_text().splitlines():
        heading = EVENT_HEADING.match(line)
        if heading:
            current = sections.setdefault(heading.group(1), {})
        elif line.startswith(("## ", "### ")):
            current = None
        elif current is not None and (row := FIELD_ROW.match(line)):
            current[row.group(1)] = line.split("|")[3].strip()
    return sections


def test_the_contract_document_is_found_from_anywhere():
    assert CONTRACT.is_file(), CONTRACT


def test_every_event_type_documented_is_accepted_and_the_other_way_round():
    accepted = set(accepted_event_schemas())
    documented = set(documented_fields())
    assert documented == accepted, {
        "documented, not accepted": sorted(documented - accepted),
        "accepted, not documented": sorted(accepted - documented),
    }


def test_every_event_type_the_contract_names_is_one_the_services_accept():
    accepted = set(accepted_event_schemas())
    families = {event_type.split(".")[0] for event_type in accepted}
    named = {
        f"{family}.{name}" for family, name in DOTTED.findall(contract_text()) if family in families
    }
    assert named <= accepted, sorted(named - accepted)


@pytest.mark.parametrize("event_type", sorted(accepted_event_schemas()))
def test_each_event_types_fields_and_their_requiredness_are_as_documented(event_type):
    schema = accepted_event_schemas()[event_type]
    documented = documented_fields().get(event_type, {})
    code = {name: ("yes" if field.required else "no") for name, field in schema.fields.items()}
    assert set(documented) == set(code), {
        "documented, not in the schema": sorted(set(documented) - set(code)),
        "in the schema, not documented": sorted(set(code) - set(documented)),
    }
    assert documented == code


def test_every_v1_route_is_in_the_contract_with_its_service():
    text = contract_text()
    rows = {
        (m.group(1), m.group(2), m.group(3))
        for line in text.splitlines()
        if (m := ROUTE_ROW.match(line))
    }
    served = v1_routes()
    assert rows == served, {
        "in the endpoint table, not served": sorted(rows - served),
        "served, not in the endpoint table": sorted(served - rows),
    }


def test_every_v1_route_the_contract_names_is_served():
    served = {(method, path) for _, method, path in v1_routes()}
    named = set(ROUTE.findall(contract_text()))
    assert named <= served, sorted(named - served)


def test_the_operations_endpoints_are_in_the_contract():
    text = contract_text()
    for cls in service_classes():
        paths = {e.url for e in http_entrypoints(cls)}
        for path in OPS_PATHS:
            assert path in paths, (cls.name, path)
            assert f"`GET {path}`" in text or f"`{path}`" in text, path
