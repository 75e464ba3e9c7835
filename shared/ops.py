"""Endpoints every service serves for its operators: metrics and health."""

from __future__ import annotations

from typing import Any

from kombu import Connection
from marshmallow import Schema, fields
from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from shared.events import EventBatchHandler, SubscriptionQueues
from shared.gauges import GaugeSource, gauge
from shared.http import Problem, http, json_response
from shared.ingress.entrypoint import IngressEntrypoint
from shared.metrics import EntrypointMetrics, package_version
from shared.mongo import MongoConnection
from shared.openapi import TEXT, Doc, build_document
from shared.retries import RetryPlan

CHECK_TIMEOUT_SECONDS = 3


class Readiness(DependencyProvider):
    """Answers whether the broker and the database can be reached right now."""

    mongo = MongoConnection()

    def broker_ok(self) -> None:
        config = self.container.config
        with Connection(
            config["AMQP_URI"], ssl=config.get("AMQP_SSL"), connect_timeout=CHECK_TIMEOUT_SECONDS
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


class RetryQueueGauges(GaugeSource):
    """Messages waiting in the delay queues and parked in the dead queue of every queue this
    service consumes, read from the broker (passive declares) at most every 15 s."""

    MAX_AGE_SECONDS = 15.0
    suffix = "queues"

    def plans(self) -> list[RetryPlan]:
        plans = []
        for entrypoint in self.container.entrypoints:
            if isinstance(entrypoint, IngressEntrypoint):
                plans.append(entrypoint.topology.retry)
            elif isinstance(entrypoint, EventBatchHandler):
                plans.append(entrypoint.plan)
        return plans

    def compute(self) -> list[Any]:
        pending, parked, config = [], [], self.container.config
        with Connection(
            config["AMQP_URI"], ssl=config.get("AMQP_SSL"), connect_timeout=CHECK_TIMEOUT_SECONDS
        ) as connection:
            channel = connection.default_channel

            def depth(queue: str) -> int:
                return channel.queue_declare(queue=queue, passive=True).message_count

            for plan in self.plans():
                retries = sum(depth(q.name) for q in plan.queues()[:-1])
                pending.append(((plan.queue_name,), retries))
                parked.append(((plan.queue_name,), depth(plan.dead_queue_name)))
        return [
            gauge(
                "tracker_retries_pending",
                "Messages waiting in a delay queue for their next attempt, by consumed queue.",
                ["queue"],
                pending,
            ),
            gauge(
                "tracker_dead_letters_parked",
                "Messages parked in the dead queue after their last attempt, by consumed queue.",
                ["queue"],
                parked,
            ),
        ]


class OpenApi(DependencyProvider):
    """The service's OpenAPI document, built once at start-up (a route without a doc fails)."""

    def setup(self) -> None:
        self.document = build_document(self.container.service_cls, package_version())

    def get_dependency(self, worker_ctx: Any) -> dict[str, Any]:
        return self.document


class StatusSchema(Schema):
    status = fields.String(required=True)


class DocumentSchema(Schema):
    openapi = fields.String(required=True)
    info = fields.Dict(required=True)
    paths = fields.Dict(required=True)
    components = fields.Dict()


class OpsEndpoints:
    """Mixin for service classes: `GET /metrics`, `/health/live`, `/health/ready`, and the
    declaration of every internal subscription queue at start-up."""

    entrypoint_metrics = EntrypointMetrics()
    readiness = Readiness()
    subscription_queues = SubscriptionQueues()
    retry_queue_gauges = RetryQueueGauges()
    openapi = OpenApi()

    @http("GET", "/openapi.json", doc=Doc("this document", DocumentSchema))
    def openapi_document(self, request: Any) -> Response:
        return json_response(self.openapi)

    @http("GET", "/metrics", doc=Doc("Prometheus metrics", TEXT))
    def metrics(self, request: Any) -> Response:
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    @http("GET", "/health/live", doc=Doc("the process answers", StatusSchema))
    def live(self, request: Any) -> Response:
        return json_response({"status": "live"})

    @http(
        "GET",
        "/health/ready",
        doc=Doc("broker and database reachable", StatusSchema, errors=(503,)),
    )
    def ready(self, request: Any) -> Response:
        failed = self.readiness.failures()
        if failed:
            raise Problem(
                503, "Service Unavailable", "; ".join(f"{k}: {v}" for k, v in failed.items())
            )
        return json_response({"status": "ready"})
