"""The pipeline's hops with nothing in them: `tracker.ingress` -> one service, which announces
each event to two services. Each of those writes the time it received its last event (the
count expected is FLOOR_EVENTS) to FLOOR_DONE_DIR/<service>."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from kombu import Queue
from nameko.events import EventDispatcher, event_handler
from nameko.messaging import consume

from shared.publisher import INGRESS_EXCHANGE

EXPECTED = int(os.environ.get("FLOOR_EVENTS", "0"))
DONE_DIR = Path(os.environ.get("FLOOR_DONE_DIR", "."))
INGRESS_QUEUE = Queue("floor.ingress", exchange=INGRESS_EXCHANGE, routing_key="#", durable=True)
RECEIVERS = ("tiering", "incubators")


class Tally:
    """Counts events; records the time of the EXPECTED-th."""

    def __init__(self, service: str):
        self.service, self.seen = service, 0

    def add(self) -> None:
        self.seen += 1
        if self.seen == EXPECTED:
            (DONE_DIR / self.service).write_text(repr(time.time()))


class Registry:
    name = "registry"
    dispatch = EventDispatcher()

    @consume(INGRESS_QUEUE)
    def on_event(self, event: dict[str, Any]) -> None:
        self.dispatch("enterprise_updated", {"uscc": event["data"]["uscc"], **event["data"]})


tiering_tally, incubators_tally = Tally("tiering"), Tally("incubators")


class Tiering:
    name = "tiering"

    @event_handler("registry", "enterprise_updated")
    def on_enterprise_updated(self, snapshot: dict[str, Any]) -> None:
        tiering_tally.add()


class Incubators:
    name = "incubators"

    @event_handler("registry", "enterprise_updated")
    def on_enterprise_updated(self, snapshot: dict[str, Any]) -> None:
        incubators_tally.add()
