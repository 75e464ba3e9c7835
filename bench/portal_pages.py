"""Page times of the portal with a whole generated province stored: the province's events
applied through each service's own code (registry's changes, tiering's classification,
incubators' life cycle, notifications' alerts) straight into fresh databases, then the six
services started as processes and each page asked for, signed in as a browser is, one request
at a time. p95 of every page must be ≤ 300 ms.

Seeding this way takes minutes at full scale (loading through the broker takes most of an
hour) and gives the same stored state a loaded province has."""

from __future__ import annotations

import json
import random
import statistics
import time
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import requests
from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import MongoClient

from bench.harness import MONGODB_URI, Stage
from services.incubators import handling as incubation
from services.incubators.lifecycle import AdmissionPending
from services.incubators.schemas import EVENT_SCHEMAS as INCUBATOR_SCHEMAS
from services.incubators.storage import Incubators
from services.notifications import handling as alerting
from services.notifications.storage import Notifications
from services.registry import changes, records
from services.registry.schemas import EVENT_SCHEMAS as ENTERPRISE_SCHEMAS
from services.registry.storage import Enterprises
from services.tiering import classify
from services.tiering.storage import RuleSets, Tiers
from shared.cli.demo import sizes
from shared.cli.keys import issue_key
from shared.envelope import InvalidEvent, load_data, parse_envelope
from shared.ingress.entrypoint import EventRejected
from shared.province.generator import Generator
from tests.support.browser import signed_in
from tests.support.fixtures import free_port

P95_SECONDS = 0.3
REQUESTS_PER_PAGE = 40
RULESET = "jl-2025"
SERVICES = ("auth", "registry", "tiering", "incubators", "notifications", "portal")


def parsed(document: Any, schemas: dict[str, Any]) -> Any:
    """A generated event validated as the services' ingress does; None when it is refused."""
    try:
        event = parse_envelope(json.loads(document) if isinstance(document, bytes) else document)
        return load_data(event, schemas[event.type]())
    except (InvalidEvent, KeyError, ValueError):
        return None


def seed(stage: Stage, scale: float) -> dict[str, Any]:
    """The province stored through the services' own code; what was stored, and how long."""
    started = time.monotonic()
    province = Generator(2025, **sizes(scale)).generate()
    now = datetime.now(UTC)
    with MongoClient(MONGODB_URI, tz_aware=True) as client:
        enterprises = Enterprises(stage.db(client, "registry"))
        tiers, rulesets = Tiers(stage.db(client, "tiering")), RuleSets(stage.db(client, "tiering"))
        carriers = Incubators(stage.db(client, "incubators"))
        inboxes = Notifications(stage.db(client, "notifications"))
        for repository in (enterprises, tiers, carriers, inboxes):
            repository.ensure_indexes()
        rulesets.install_bundled(RULESET)
        touched = set()
        for document in province.enterprise_events:
            event = parsed(document, ENTERPRISE_SCHEMAS)
            if event is not None and changes.apply(enterprises, event) is not None:
                touched.add(event.data["uscc"])
        moves: list[dict[str, Any]] = []
        snapshots = [records.snapshot(enterprises.get(code)) for code in sorted(touched)]
        for snapshot in snapshots:
            classify.on_snapshot(tiers, rulesets, snapshot, RULESET, moves.append)
        found: list[dict[str, Any]] = []
        handlers = {
            "incubator.registered": incubation.registered,
            "incubator.firm_admitted": incubation.admitted,
            "incubator.firm_graduated": incubation.graduated,
            "incubator.firm_exited": incubation.exited,
            "incubator.annual_report": incubation.carrier_report,
        }
        for phase in province.incubator_phases:
            for document in phase:
                event = parsed(document, INCUBATOR_SCHEMAS)
                if event is not None:
                    with suppress(EventRejected, AdmissionPending):  # refused, as the service does
                        found += handlers[event.type](carriers, event)
        for snapshot in snapshots:
            found += incubation.enterprise_updated(carriers, snapshot)
        alerts = sum(len(alerting.tier_changed(inboxes, move, now)) for move in moves)
        alerts += sum(len(alerting.finding(inboxes, finding, now)) for finding in found)
    return {
        "firms": len(touched),
        "carriers": len(province.carriers),
        "tier_changes": len(moves),
        "findings": len(found),
        "alerts": alerts,
        "seconds": round(time.monotonic() - started, 1),
        "sample_firms": random.Random(7).sample(sorted(touched), min(40, len(touched))),
        "carrier_ids": [c["incubator_id"] for c in province.carriers],
    }


def timed(client: requests.Session, url: str) -> float:
    started = time.monotonic()
    answer = client.get(url, timeout=60)
    seconds = time.monotonic() - started
    if answer.status_code != 200:
        raise AssertionError(f"{url}: {answer.status_code} {answer.text[:300]}")
    return seconds


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "requests": len(ordered),
        "p50_seconds": round(statistics.median(ordered), 4),
        "p95_seconds": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 4),
        "max_seconds": round(ordered[-1], 4),
    }


def own_ports(stage: Stage) -> None:
    """Free ports for this scenario's services: the harness's fixed ones (FIRST_PORT + n) may be
    taken by another run of the benchmarks on the same machine."""
    ports = {service: free_port() for service in SERVICES}
    configured = stage.config
    stage.config = lambda service: {  # type: ignore[method-assign]
        **configured(service),
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{ports[service]}",
    }


def run(stage: Stage, scale: float = 1.0) -> dict[str, Any]:
    seeded = seed(stage, scale)
    own_ports(stage)
    stage.start(*SERVICES)
    with ClusterRpcProxy({"AMQP_URI": stage.amqp_uri}, timeout=30) as cluster:
        unit_key = issue_key(cluster, "unit", "220100")
        province_key = issue_key(cluster, "unit", "220000")
        carrier = seeded["carrier_ids"][0]
        carrier_key = issue_key(cluster, "incubator", carrier)
    base = stage.url("portal")
    unit, whole, staff = (signed_in(base, k) for k in (unit_key, province_key, carrier_key))
    firms = seeded["sample_firms"]
    pages = {
        "unit overview (长春)": (unit, lambda i: "/units/220100"),
        "unit overview, gazelles only": (unit, lambda i: "/units/220100?tier=gazelle"),
        "province overview": (whole, lambda i: "/units/220000"),
        "firm page": (whole, lambda i: f"/firms/{firms[i % len(firms)]}"),
        "inbox": (unit, lambda i: "/units/220100/inbox"),
        "carrier page": (staff, lambda i: f"/carriers/{carrier}"),
    }
    measured = {}
    for name, (client, path) in pages.items():
        for i in range(3):  # warm-up: connections, caches
            timed(client, base + path(i))
        measured[name] = summary([timed(client, base + path(i)) for i in range(REQUESTS_PER_PAGE)])
    every = [m["p95_seconds"] for m in measured.values()]
    return {
        "seeded": {k: v for k, v in seeded.items() if k not in ("sample_firms", "carrier_ids")},
        "pages": measured,
        "worst_p95_seconds": max(every),
    }


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    if "portal_pages" not in results:
        return []
    worst = results["portal_pages"]["worst_p95_seconds"]
    firms = results["portal_pages"]["seeded"]["firms"]
    target = f"portal pages p95 ≤ {P95_SECONDS * 1000:.0f} ms with {firms:,} firms stored"
    return [{"target": target, "measured": worst, "met": worst <= P95_SECONDS}]


def markdown(results: dict[str, Any]) -> str:
    if "portal_pages" not in results:
        return ""
    measured = results["portal_pages"]
    lines = [
        "",
        f"Portal pages (seeded: {json.dumps(measured['seeded'], ensure_ascii=False)})",
        "",
        "| page | requests | p50 s | p95 s | max s |",
        "|---|---|---|---|---|",
    ]
    for name, m in measured["pages"].items():
        lines.append(
            f"| {name} | {m['requests']} | {m['p50_seconds']} | {m['p95_seconds']} "
            f"| {m['max_seconds']} |"
        )
    return "\n".join(lines) + "\n"
