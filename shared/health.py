"""`GET /metrics`, `/health/live` and `/health/ready`, answered outside the worker pool.

nameko's `@http` entrypoints each wait for a worker, so with every worker busy on a backlog a
probe would time out and Kubernetes would restart the pods working hardest. These routes are
served by the same web server, on the service's port, but answered in the server's own
greenthread (one per connection), never by a worker:

- live: this process's event loop runs (it answered);
- ready: this process can consume and store. A background greenthread checks every
  `HEALTH_CHECK_INTERVAL_SECONDS` (5) that the broker answers, on one connection it keeps
  open, and that the database answers a ping, each within `HEALTH_CHECK_TIMEOUT_SECONDS` (2);
  consumers report their own connection (`consumer_ready`, `consumer_lost`). A probe only
  reads the last results: no connection is opened per probe, and a stuck dependency makes the
  probe answer 503 at once instead of hanging.

The same results are exported as `tracker_dependency_up{service, dependency}`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import eventlet
from kombu import Connection
from marshmallow import Schema, fields
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import Metric
from pymongo import MongoClient
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from shared.gauges import SOURCES, CachedSource, gauge
from shared.http import Problem, ProblemWebServer, json_response
from shared.injection import Injects
from shared.mongo import DEFAULT_URI, URI_KEY
from shared.openapi import TEXT, Doc

log = logging.getLogger(__name__)

DEPENDENCIES = ("broker", "database")


class StatusSchema(Schema):
    status = fields.String(required=True)


@dataclass
class Check:
    """The last result of one check: `None` while it passes, else why it fails."""

    failure: str | None = "not checked yet"
    at: float = field(default_factory=time.monotonic)


# Consumers' own connection state, by (service, consumer): None while consuming, else why not.
CONSUMERS: dict[tuple[str, str], str | None] = {}


def consumer_ready(service: str, consumer: str) -> None:
    """A consumer of `service` is connected and consuming (after every (re)connection)."""
    CONSUMERS[(service, consumer)] = None


def consumer_lost(service: str, consumer: str, reason: object) -> None:
    """A consumer of `service` lost its connection, or cannot make one."""
    CONSUMERS[(service, consumer)] = f"{type(reason).__name__}: {reason}"


class DependencyChecks:
    """Broker and database checks run in the background; `failures()` reads their results."""

    def __init__(
        self, service: str, config: dict[str, Any], dependencies: tuple[str, ...] = DEPENDENCIES
    ):
        self.service, self.dependencies = service, dependencies
        self.interval = float(config.get("HEALTH_CHECK_INTERVAL_SECONDS") or 5)
        self.timeout = float(config.get("HEALTH_CHECK_TIMEOUT_SECONDS") or 2)
        self.amqp_uri, self.amqp_ssl = config["AMQP_URI"], config.get("AMQP_SSL")
        self.mongo_uri = config.get(URI_KEY, DEFAULT_URI)
        self.results = {name: Check() for name in dependencies}
        self.connection: Connection | None = None
        self.client: MongoClient | None = None

    def broker(self) -> None:
        """One round trip on a connection kept open between checks (reopened when lost)."""
        if self.connection is None:
            self.connection = Connection(
                self.amqp_uri, ssl=self.amqp_ssl, connect_timeout=self.timeout, heartbeat=0
            )
        try:
            self.connection.ensure_connection(max_retries=1, timeout=self.timeout)
            self.connection.default_channel.exchange_declare(
                exchange="amq.direct", type="direct", passive=True
            )
        except Exception:
            self.close_broker()
            raise

    def database(self) -> None:
        if self.client is None:
            millis = int(self.timeout * 1000)
            self.client = MongoClient(
                self.mongo_uri,
                serverSelectionTimeoutMS=millis,
                connectTimeoutMS=millis,
                socketTimeoutMS=millis,
                maxPoolSize=1,
                appname=f"{self.service}-health",
            )
        self.client.admin.command("ping")

    def run_once(self) -> None:
        checks = {"broker": self.broker, "database": self.database}
        for name, check in ((name, checks[name]) for name in self.dependencies):
            failure = None
            try:
                with eventlet.Timeout(self.timeout * 2):
                    check()
            except (Exception, eventlet.Timeout) as exc:
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if failure != self.results[name].failure:
                level = logging.WARNING if failure else logging.INFO
                log.log(level, "health check of the %s: %s", name, failure or "ok")
            self.results[name] = Check(failure)

    def run_forever(self) -> None:
        while True:
            self.run_once()
            eventlet.sleep(self.interval)

    def stale_after(self) -> float:
        """A result older than this means the checker itself is stuck: not ready."""
        return 3 * self.interval + 4 * self.timeout

    def failures(self) -> dict[str, str]:
        now, failed = time.monotonic(), {}
        for name, check in self.results.items():
            if check.failure is not None:
                failed[name] = check.failure
            elif now - check.at > self.stale_after():
                failed[name] = f"not checked for {now - check.at:.0f} s"
        for (service, consumer), failure in list(CONSUMERS.items()):
            if service == self.service and failure is not None:
                failed[f"consumer {consumer}"] = failure
        return failed

    def gauges(self) -> Iterable[Metric]:
        failed = self.failures()
        rows = [
            ((self.service, name), 0.0 if name in failed else 1.0) for name in self.dependencies
        ]
        return [
            gauge(
                "tracker_dependency_up",
                "1 while the last background check of a dependency passed, else 0.",
                ["service", "dependency"],
                rows,
            )
        ]

    def close_broker(self) -> None:
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:  # closing a broken connection may fail too: it is dropped
                log.debug("closing the health check's broker connection failed", exc_info=True)
            self.connection = None

    def close(self) -> None:
        self.close_broker()
        if self.client is not None:
            self.client.close()
            self.client = None


@dataclass(frozen=True, eq=False)  # hashed by identity: a web server keeps its routes in a set
class Route:
    """A GET route answered directly by `handler`; documented like an `@http` entrypoint."""

    url: str
    method_name: str
    doc: Doc
    handler: Callable[[Request], Response] = field(compare=False)
    method: str = "GET"

    def get_url_rule(self) -> Rule:
        return Rule(self.url, methods=[self.method])

    def handle_request(self, request: Request) -> Response:
        try:
            return self.handler(request)
        except Problem as problem:
            return problem.response()
        except Exception:
            log.exception("%s failed", self.url)
            return Problem(500, "Internal Server Error", "the error has been logged").response()


def metrics(request: Request) -> Response:
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)


def live(request: Request) -> Response:
    return json_response({"status": "live"})


ROUTES = (
    Route("/metrics", "metrics", Doc("Prometheus metrics", TEXT), metrics),
    Route("/health/live", "live", Doc("the process's event loop runs", StatusSchema), live),
)
READY_DOC = Doc("this process can consume and store", StatusSchema, errors=(503,))


class OpsServer(Injects[None]):
    """Adds the three routes to the service's web server and runs the background checks."""

    server = ProblemWebServer()

    @property
    def routes(self) -> tuple[Route, ...]:
        """What `shared.openapi` documents (read from the unbound class attribute too)."""
        return (*ROUTES, Route("/health/ready", "ready", READY_DOC, self.ready))

    def setup(self) -> None:
        """A service with no database of its own (the portal) names the dependencies it has
        in its class attribute `health_dependencies`."""
        dependencies = getattr(self.container.service_cls, "health_dependencies", DEPENDENCIES)
        config = self.container.config
        self.checks = DependencyChecks(self.container.service_name, config, dependencies)
        self.source = CachedSource(f"{self.container.service_name}.health", self.checks.gauges, 0)
        SOURCES.add(self.source)
        self.bound_routes = self.routes
        for route in self.bound_routes:
            self.server.register_provider(route)

    def start(self) -> None:
        self.checker = self.container.spawn_managed_thread(
            self.checks.run_forever, identifier="health-checks"
        )

    def ready(self, request: Request) -> Response:
        failed = self.checks.failures()
        if failed:
            detail = "; ".join(f"{name}: {why}" for name, why in sorted(failed.items()))
            raise Problem(503, "Service Unavailable", detail)
        return json_response({"status": "ready"})

    def stop(self) -> None:
        checker = getattr(self, "checker", None)
        if checker is not None:
            checker.kill()
        for route in self.bound_routes:
            self.server.unregister_provider(route)
        SOURCES.remove(self.source)
        self.checks.close()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
