"""How old the oldest waiting event of each consumed queue is, as seen by its consumer.

RabbitMQ cannot say it for quorum queues (they report no head-message timestamp:
rabbitmq-server issue #6813), so each consumer reports it. A consumer holds up to its prefetch
count of messages, the head of its queue, between delivery and settlement: the oldest of them
says how long the head of the backlog has waited, and that age keeps growing while every
worker is stuck. When a message is settled, the time it spent since entering its queue is
observed in `tracker_event_latency_seconds`, the SLI of the event-freshness objective.

When a message entered its queue: the latest of its publish timestamp (the AMQP `timestamp`
property, which `shared.publisher` sets and RabbitMQ 3.12+ sets on every message with
`message_interceptors.incoming.set_header_timestamp`, also as the `timestamp_in_ms` header) and
the time it was last dead-lettered into it (`x-death`, a retry coming back from its delay
queue). A message with none of these counts from its delivery to this process.

Consumers call two hooks: `received(service, queue, message)` when a message is delivered and
`settled(message)` once it is acked (or `released(message)` when it goes back to its queue).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from prometheus_client import Histogram
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Beyond 10 s: the objective's bar is 60 s, and a backlog can hold events for hours.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
EVENT_LATENCY = Histogram(
    "tracker_event_latency_seconds",
    "Seconds from an event entering the queue it is consumed from until its consumer settled it.",
    ["service", "queue"],
    buckets=LATENCY_BUCKETS,
)


def _epoch(value: Any) -> float | None:
    """Seconds since the epoch from an AMQP timestamp (py-amqp gives naive UTC datetimes)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def entered_queue_at(
    properties: Mapping[str, Any], headers: Mapping[str, Any] | None
) -> float | None:
    """When a message entered the queue it was delivered from, or None when it carries no
    time at all (see the module's docstring)."""
    headers = headers or {}
    stamps = [_epoch(properties.get("timestamp"))]
    millis = headers.get("timestamp_in_ms")
    if isinstance(millis, int) and not isinstance(millis, bool):
        stamps.append(millis / 1000)
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        stamps.append(_epoch(deaths[0].get("time")))
    known = [stamp for stamp in stamps if stamp is not None]
    return max(known) if known else None


class Waiting(NamedTuple):
    service: str
    queue: str
    since: float


class Backlog(Collector):
    """The messages this process holds, unsettled, by queue; registered once per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # message -> what it waits for; a message dropped unsettled (its process dying) leaves
        self.held: weakref.WeakKeyDictionary[Any, Waiting] = weakref.WeakKeyDictionary()
        self.queues: dict[str, str] = {}  # queue -> service, so an idle queue reports 0

    def watch(self, service: str, queue: str) -> None:
        """Report `queue` from now on, at 0 while nothing waits (the gauge exists from start)."""
        with self.lock:
            self.queues[queue] = service

    def received(self, service: str, queue: str, message: Any) -> None:
        now = time.time()
        entered = entered_queue_at(message.properties or {}, message.headers)
        since = now if entered is None else min(entered, now)
        with self.lock:
            self.queues.setdefault(queue, service)
            self.held[message] = Waiting(service, queue, since)

    def settled(self, message: Any) -> None:
        with self.lock:
            waiting = self.held.pop(message, None)
        if waiting is not None:
            EVENT_LATENCY.labels(waiting.service, waiting.queue).observe(
                max(0.0, time.time() - waiting.since)
            )

    def released(self, message: Any) -> None:
        with self.lock:
            self.held.pop(message, None)

    def ages(self) -> dict[tuple[str, str], float]:
        now = time.time()
        with self.lock:
            oldest = {(service, queue): now for queue, service in self.queues.items()}
            for waiting in list(self.held.values()):
                key = (waiting.service, waiting.queue)
                oldest[key] = min(oldest.get(key, now), waiting.since)
        return {key: max(0.0, now - since) for key, since in oldest.items()}

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "tracker_queue_oldest_event_age_seconds",
            "Age of the oldest event this process holds unsettled from a queue (0: none): the "
            "age of the head of the queue's backlog while the consumer keeps up with delivery.",
            labels=["service", "queue"],
        )
        for (service, queue), age in sorted(self.ages().items()):
            family.add_metric([service, queue], age)
        yield family


BACKLOG = Backlog()
REGISTRY.register(BACKLOG)

watch = BACKLOG.watch
received = BACKLOG.received
settled = BACKLOG.settled
released = BACKLOG.released
