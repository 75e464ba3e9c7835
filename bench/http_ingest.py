"""Incubators posting their events to `POST /v1/events` in batches of 100, each with its own
key: accepted events per second (accepted = published to the broker with a confirm)."""

from __future__ import annotations

import time
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy

from bench.harness import Stage
from tools.cli.keys import issue_key
from tools.province import generator, loader

CARRIERS = 20
INCUBATED = 3_000


class NoProgress:
    sent = answered = 0

    def show(self) -> None:
        """The bench prints its own results."""


def run(stage: Stage, incubated: int = INCUBATED) -> dict[str, Any]:
    province = generator.Generator(
        11, firms=incubated, carriers=CARRIERS, incubated=incubated
    ).generate()
    events = province.incubator_phases[0]  # carriers and admissions: nothing waits on them
    stage.start("auth", "incubators")  # incubators checks each key with auth (then caches it)
    with ClusterRpcProxy({"AMQP_URI": stage.amqp_uri}, timeout=30) as cluster:
        issued = {
            c["incubator_id"]: issue_key(cluster, "incubator", c["incubator_id"])
            for c in province.carriers
        }
    started = time.monotonic()
    outcome = loader.post_incubator_events(stage.url("incubators"), issued, events, NoProgress())
    seconds = time.monotonic() - started
    if outcome["refused"]:
        raise AssertionError(f"http ingest: {outcome['refused']} events refused")
    return {
        "events": len(events),
        "batch": loader.BATCH,
        "seconds": round(seconds, 2),
        "accepted_per_second": round(outcome["accepted"] / seconds, 1),
    }
