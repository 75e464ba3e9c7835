"""Endpoints every service serves for its operators: metrics and health."""

from __future__ import annotations

from typing import Any

from kombu import Connection
from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from shared.events import SubscriptionQueues
from shared.http import Problem, http, json_response
from shared.metrics import EntrypointMetrics
from shared.mongo import MongoConnection

CHECK_TIMEOUT_SECONDS = 3


class Readiness(DependencyProvider):
    """Answers whether the broker and the database can be reached right now."""

    mongo = MongoConnection()

    def broker_ok(self) -> None:
        with Connection(
            self.container.config["AMQP_URI"], connect_timeout=CHECK_TIMEOUT_SECONDS
        ) as connection:
            connection.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)

    def failures(self) -> dict[str, str]:
        failed = {}
        for name, check in (("broker", self.broker_ok), ("database", self.mongo.ping)):
            try:
                check()
            except Exception as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"
        return failed

    def get_dependency(self, worker_ctx: Any) -> Readiness:
        return self


class OpsEndpoints:
    """Mixin for service classes: `GET /metrics`, `/health/live`, `/health/ready`, and the
    declaration of every internal subscription queue at start-up."""

    entrypoint_metrics = EntrypointMetrics()
    readiness = Readiness()
    subscription_queues = SubscriptionQueues()

    @http("GET", "/metrics")
    def metrics(self, request: Any) -> Response:
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    @http("GET", "/health/live")
    def live(self, request: Any) -> Response:
        return json_response({"status": "live"})

    @http("GET", "/health/ready")
    def ready(self, request: Any) -> Response:
        failed = self.readiness.failures()
        if failed:
            raise Problem(
                503, "Service Unavailable", "; ".join(f"{k}: {v}" for k, v in failed.items())
            )
        return json_response({"status": "ready"})
