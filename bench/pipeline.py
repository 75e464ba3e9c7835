"""Annual reports through the whole pipeline (ingress → registry → tiering), timed from the
first publish until every firm's tier reflects its last report; then, on the same services, a
steady half-maximum load for publish-to-tier latency; and the services' peak memory."""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from bench.harness import MONGODB_URI, SERVICES, Stage
from bench.workload import YEARS, Workload
from shared.publisher import CLOUDEVENTS_JSON, INGRESS_EXCHANGE, Publisher
from tools.province.loader import routing_key

REPORTS_PER_FIRM = len(YEARS)
LATENCY_SECONDS = 30
LATENCY_YEAR = 2025


def publish(uri: str, events: list[bytes], content_type: str = CLOUDEVENTS_JSON) -> list[float]:
    """One confirmed publisher, as fast as the broker confirms; the time each was sent."""
    publisher, sent = Publisher(uri), []
    try:
        for body in events:
            sent.append(time.time())
            publisher.publish(body, routing_key(body), INGRESS_EXCHANGE, content_type)
    finally:
        publisher.close()
    return sent


def tier_versions(stage: Stage) -> dict[str, tuple[int, datetime]]:
    with MongoClient(MONGODB_URI, tz_aware=True) as client:
        firms = stage.db(client, "tiering")["firms"]
        return {
            d["_id"]: (d["version"], d["evaluated_at"])
            for d in firms.find({}, {"version": True, "evaluated_at": True})
        }


def snapshots_handled(stage: Stage) -> int:
    """`enterprise_updated` snapshots tiering has finished with, from its own metrics: a cheap
    look, where counting records would read the whole collection each time."""
    text = requests.get(f"{stage.url('tiering')}/metrics", timeout=10).text
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "tracker_events_consumed_total"
            and sample.labels.get("type") == "enterprise_updated"
            and sample.labels.get("outcome") == "processed"
        )
    )


def wait_for_tiers(
    stage: Stage, firms: int, version: int, snapshots: int, timeout: float = 3600
) -> float:
    """The monotonic time at which `firms` tier records were first seen at `version` or later,
    looked for once tiering has handled the `snapshots` expected. (RabbitMQ's management
    statistics lag by up to 5 s, so empty queues would be no proof.)"""
    deadline = time.monotonic() + timeout
    with MongoClient(MONGODB_URI) as client:
        records = stage.db(client, "tiering")["firms"]
        while time.monotonic() < deadline:
            looked = time.monotonic()
            if (
                snapshots_handled(stage) >= snapshots
                and records.count_documents({"version": {"$gte": version}}) >= firms
            ):
                return looked
            time.sleep(0.25)
    raise TimeoutError(f"{stage.name}: tiers not at version {version} within {timeout}s")


def run(stage: Stage, events: int) -> tuple[dict[str, Any], Workload]:
    """`events` annual reports for events/4 registered firms, on a fresh stage."""
    firms = events // REPORTS_PER_FIRM
    workload = Workload(firms)
    stage.start(*SERVICES)
    publish(stage.amqp_uri, workload.registrations())
    wait_for_tiers(stage, firms, 1, snapshots=firms)
    reports = workload.annual_reports()
    cpu_before = stage.cpu_seconds()
    started = time.monotonic()
    publish(stage.amqp_uri, reports)
    final = wait_for_tiers(stage, firms, 1 + REPORTS_PER_FIRM, snapshots=firms + len(reports))
    seconds = final - started
    cpu_after = stage.cpu_seconds()
    return {
        "events": len(reports),
        "firms": firms,
        "seconds": round(seconds, 2),
        "events_per_second": round(len(reports) / seconds, 1),
        "cpu_ms_per_event": {
            name: round(1000 * (cpu_after[name] - cpu_before.get(name, 0.0)) / len(reports), 2)
            for name in cpu_after
        },
    }, workload


def latency(stage: Stage, workload: Workload, rate: float) -> dict[str, Any]:
    """One more annual report per firm (of the run before, on its services), offered at
    `rate` per second, each to a firm of its own: publish time to the `evaluated_at` of the
    tier record it produced."""
    count = min(len(workload.firms), max(200, int(rate * LATENCY_SECONDS)))
    events = []
    for _, reports, _ in workload.firms[:count]:
        report = {**reports[YEARS[-1]], "year": LATENCY_YEAR}
        events.append(workload.encode("enterprise.annual_report", report))
    sent, publisher = {}, Publisher(stage.amqp_uri)
    start = time.monotonic()
    try:
        for n, body in enumerate(events):
            pause = start + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent[workload.firms[n][0]["uscc"]] = time.time()
            publisher.publish(body, routing_key(body), INGRESS_EXCHANGE, CLOUDEVENTS_JSON)
    finally:
        publisher.close()
    wait_for_tiers(
        stage,
        count,
        2 + REPORTS_PER_FIRM,
        snapshots=len(workload.firms) * (1 + REPORTS_PER_FIRM) + count,
    )
    stored = tier_versions(stage)
    seconds = sorted(
        stored[u][1].timestamp() - t
        for u, t in sent.items()
        if stored[u][0] == 2 + REPORTS_PER_FIRM
    )
    if len(seconds) != len(sent):
        raise AssertionError(f"latency: {len(sent) - len(seconds)} reports did not reach tiering")
    quantiles = statistics.quantiles(seconds, n=100, method="inclusive")
    return {
        "events": len(sent),
        "offered_per_second": round(rate, 1),
        "p50_seconds": round(quantiles[49], 3),
        "p95_seconds": round(quantiles[94], 3),
        "p99_seconds": round(quantiles[98], 3),
        "max_seconds": round(seconds[-1], 3),
    }
