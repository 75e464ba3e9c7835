"""Prometheus metric families shared by every service (labels are bounded: no ids, no USCCs)."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from nameko.extensions import Entrypoint
from nameko.rpc import Rpc
from nameko.timer import Timer
from nameko.web.handlers import HttpRequestHandler
from prometheus_client import Counter, Gauge, Histogram

from shared.injection import Injects

EVENT_OUTCOMES = ("processed", "duplicate", "rejected", "retried", "dead_lettered")

EVENTS_CONSUMED = Counter(
    "tracker_events_consumed_total",
    "Ingress events consumed, by event type and outcome.",
    ["service", "type", "outcome"],
)
EVENTS_DISPATCHED = Counter(
    "tracker_events_dispatched_total",
    "Internal events this service published (confirmed by the broker), by type.",
    ["service", "type"],
)
LAST_EVENT_PROCESSED = Gauge(
    "tracker_last_event_processed_timestamp_seconds",
    "Unix time at which the service last processed an event, or started (so that an alert on "
    "its age can fire after a restart that processes nothing).",
    ["service"],
)
# Beyond 10 s: a rule-set activation (RPC) or a delivery round may take minutes.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
ENTRYPOINT_DURATION = Histogram(
    "tracker_entrypoint_duration_seconds",
    "Time spent in each nameko entrypoint; kind is http, event, rpc or timer.",
    ["service", "entrypoint", "kind"],
    buckets=DURATION_BUCKETS,
)
ENTRYPOINT_ERRORS = Counter(
    "tracker_entrypoint_errors_total",
    "Entrypoint calls that raised (a client's error, an HTTP 4xx answer, is not counted).",
    ["service", "entrypoint", "kind"],
)
BUILD_INFO = Gauge(
    "tracker_build_info",
    "Always 1; the labels say which build runs.",
    ["service", "version"],
)


def package_version() -> str:
    try:
        return version("tracker")
    except PackageNotFoundError:
        return "unknown"


def count_event(service: str, event_type: str, outcome: str) -> None:
    EVENTS_CONSUMED.labels(service, event_type, outcome).inc()
    if outcome == "processed":
        LAST_EVENT_PROCESSED.labels(service).set(time.time())


def entrypoint_kind(entrypoint: Entrypoint) -> str:
    """`http`, `rpc`, `timer`, or `event` (ingress and internal events), so that dashboards
    and objectives can tell an API call from a message or a timer tick."""
    if isinstance(entrypoint, HttpRequestHandler):
        return "http"
    if isinstance(entrypoint, Rpc):
        return "rpc"
    if isinstance(entrypoint, Timer):
        return "timer"
    return "event"


class EntrypointMetrics(Injects[None]):
    """Times every entrypoint call of the service and counts the ones that raise."""

    def setup(self) -> None:
        BUILD_INFO.labels(self.container.service_name, package_version()).set(1)
        LAST_EVENT_PROCESSED.labels(self.container.service_name).set(time.time())
        self._started: dict[Any, float] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        entrypoint = worker_ctx.entrypoint
        labels = (self.container.service_name, entrypoint.method_name, entrypoint_kind(entrypoint))
        if started is not None:
            ENTRYPOINT_DURATION.labels(*labels).observe(time.perf_counter() - started)
        if exc_info is not None and not is_client_error(exc_info[1]):
            ENTRYPOINT_ERRORS.labels(*labels).inc()


def is_client_error(exc: BaseException) -> bool:
    """An HTTP problem answered 4xx (shared.http.Problem): the caller's fault, not ours."""
    status = getattr(exc, "status", None)
    return isinstance(status, int) and 400 <= status < 500
