"""Gauges computed from a service's database or broker, cached so that a scrape stays cheap.

Counting firms per tier or carriers per grade is a query, and on the local FerretDB every
query that is not an `_id` lookup scans a table. So each source is computed at most once every
`max_age` seconds, whatever the scrape rate, and a scrape between two refreshes gets the last
result. One collector is registered in prometheus_client's default registry; each service
container adds its sources under its own name (the latest container of a name wins, which is
what in-process tests need).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import eventlet
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pymongo.database import Database

from shared.injection import Injects
from shared.mongo import MongoConnection

log = logging.getLogger(__name__)

Compute = Callable[[], Iterable[Metric]]


class CachedSource:
    """One `compute`, run at most every `max_age` seconds; its last result in between.

    A scrape waits at most `wait` seconds for a refresh: a database that hangs (the gauges of
    tiering and incubators are queries) must not hang `/metrics` with it, or every other
    metric of the process would vanish exactly when it is needed. The refresh goes on in its
    own greenthread and the scrape gets the last values."""

    def __init__(self, name: str, compute: Compute, max_age: float, wait: float = 0.5):
        self.name, self.compute, self.max_age, self.wait = name, compute, max_age, wait
        self.lock = threading.Lock()
        self.families: list[Metric] = []
        self.refreshed = float("-inf")
        self.refreshing: eventlet.greenthread.GreenThread | None = None

    def collect(self) -> list[Metric]:
        with self.lock:
            stale = time.monotonic() - self.refreshed >= self.max_age
            if stale and self.refreshing is None:
                self.refreshing = eventlet.spawn(self.refresh)
            refreshing = self.refreshing
        if refreshing is not None:
            with eventlet.Timeout(self.wait, False):
                refreshing.wait()
        return self.families

    def refresh(self) -> None:
        try:
            self.families = list(self.compute())
        except Exception:  # a scrape must not fail: keep the last values, say why
            log.warning("could not refresh the %s gauges", self.name, exc_info=True)
        finally:
            self.refreshed = time.monotonic()
            self.refreshing = None


class SourcesCollector(Collector):
    def __init__(self) -> None:
        self.sources: dict[str, CachedSource] = {}

    def describe(self) -> list[Metric]:
        return []  # never compute at registration time

    def collect(self) -> Iterator[Metric]:
        for source in list(self.sources.values()):
            yield from source.collect()

    def add(self, source: CachedSource) -> None:
        self.sources[source.name] = source

    def remove(self, source: CachedSource) -> None:
        """A stopped container's source leaves (unless a newer one has taken its name)."""
        if self.sources.get(source.name) is source:
            del self.sources[source.name]


SOURCES = SourcesCollector()
REGISTRY.register(SOURCES)


class GaugeSource(Injects[None]):
    """Base of the providers that add a cached source of gauges for their container."""

    MAX_AGE_SECONDS = 30.0
    suffix = "gauges"

    def setup(self) -> None:
        self.source = CachedSource(
            f"{self.container.service_name}.{self.suffix}", self.compute, self.max_age()
        )
        SOURCES.add(self.source)

    def max_age(self) -> float:
        return self.MAX_AGE_SECONDS

    def compute(self) -> Iterable[Metric]:
        raise NotImplementedError

    def stop(self) -> None:
        SOURCES.remove(self.source)

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


def gauge(
    name: str, documentation: str, labels: list[str], rows: Iterable[tuple[tuple[str, ...], float]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, value in rows:
        family.add_metric([str(v) for v in values], value)
    return family


class StorageGauges(GaugeSource):
    """`gauges = StorageGauges(compute)` on a service: `compute(db, config)` yields metric
    families from the service's own database, refreshed at most every `MAX_AGE_SECONDS`
    (`GAUGES_MAX_AGE_SECONDS` in the config)."""

    suffix = "storage"
    connection = MongoConnection()

    def __init__(
        self, compute: Callable[[Database, dict[str, Any]], Iterable[Metric]], **kwargs: Any
    ):
        self.compute_from = compute
        super().__init__(**kwargs)

    def max_age(self) -> float:
        return float(self.container.config.get("GAUGES_MAX_AGE_SECONDS", self.MAX_AGE_SECONDS))

    def compute(self) -> Iterable[Metric]:
        return self.compute_from(self.connection.db, self.container.config)
