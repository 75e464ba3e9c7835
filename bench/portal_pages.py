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
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import MongoClient

from bench.harness import MANAGEMENT_URL, MONGODB_URI, Stage
from tests.support.browser import signed_in
from tests.support.fixtures import free_port
from tools.cli.demo import sizes
from tools.cli.keys import issue_key
from tools.province import generator, loader

P95_SECONDS = 0.3
REQUESTS_PER_PAGE = 40
RULESET = "jl-2025"
SERVICES = ("auth", "registry", "tiering", "incubators", "notifications", "portal")


def seed(stage: Stage, scale: float) -> dict[str, Any]:
    """The province loaded through the running services, as `tracker demo load` does it (the
    services' own code, so the pages read what the pipeline stores); what was stored and how
    long it took."""
    with tempfile.TemporaryDirectory() as directory:  # as `tracker demo` hands it over
        generator.write(generator.Generator(2025, **sizes(scale)).generate(), Path(directory))
        events, incubators, _ = generator.read(Path(directory))
    with ClusterRpcProxy({"AMQP_URI": stage.amqp_uri}, timeout=60) as cluster:
        keys = {
            c["incubator_id"]: issue_key(cluster, "incubator", c["incubator_id"])
            for c in incubators["carriers"]
        }
    endpoints = loader.Endpoints(
        stage.amqp_uri,
        MANAGEMENT_URL,
        registry_url=stage.url("registry"),
        incubators_url=stage.url("incubators"),
        tiering_url=stage.url("tiering"),
        notifications_url=stage.url("notifications"),
    )
    loaded = loader.load(endpoints, events, incubators, keys)
    if not loaded["drained"]:
        raise AssertionError(f"the province did not drain: {loaded}")
    with MongoClient(MONGODB_URI, tz_aware=True) as client:
        firms = sorted(r["_id"] for r in stage.db(client, "tiering").firms.find({}, {"_id": True}))
        stored = {
            "firms": len(firms),
            "carriers": stage.db(client, "incubators").carriers.count_documents({}),
            "findings": stage.db(client, "incubators").findings.count_documents({}),
            "alerts": stage.db(client, "notifications").alerts.count_documents({}),
        }
    return {
        **stored,
        "events": loaded["events"],
        "seconds": loaded["seconds"],
        "sample_firms": random.Random(7).sample(firms, min(40, len(firms))),
        "carrier_ids": [c["incubator_id"] for c in incubators["carriers"]],
    }


def timed(client: requests.Session, url: str) -> float:
    started = time.monotonic()
    answer = client.get(url, timeout=60)
    seconds = time.monotonic() - started
    if answer.status_code != 200:
        raise AssertionError(f"{url}: {answer.status_code} {answer.text[:300]}")
    return seconds


def warmed_up(client: requests.Session, url: str, patience: float = 300.0) -> None:
    """Wait until the page answers 200: right after a province is loaded, tiering may still be
    building the lists the overviews read (the portal answers 503 "try again shortly")."""
    deadline = time.monotonic() + patience
    while (answer := client.get(url, timeout=60)).status_code == 503:
        if time.monotonic() > deadline:
            break
        time.sleep(2)
    if answer.status_code != 200:
        raise AssertionError(f"{url}: {answer.status_code} {answer.text[:300]}")


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
    own_ports(stage)
    stage.start(*SERVICES)
    seeded = seed(stage, scale)
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
        warmed_up(client, base + path(0))
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
