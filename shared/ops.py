"""What every service has for its operators: probes and metrics, queue gauges, its OpenAPI
document, and every internal subscription queue declared at start-up."""

from __future__ import annotations

from typing import Any

from kombu import Connection
from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from shared import backlog
from shared.events import EventBatchHandler, SubscriptionQueues
from shared.gauges import GaugeSource, gauge
from shared.health import OpsServer
from shared.http import http, json_response
from shared.ingress.entrypoint import IngressEntrypoint
from shared.injection import Injects
from shared.metrics import EntrypointMetrics, package_version
from shared.openapi import Doc, build_document
from shared.retries import RetryPlan

CHECK_TIMEOUT_SECONDS = 3


def consumed_queues(container: Any) -> list[RetryPlan]:
    """The retry plan of every queue the container's entrypoints consume (known once they are
    set up)."""
    plans = []
    for entrypoint in container.entrypoints:
        if isinstance(entrypoint, IngressEntrypoint):
            plans.append(entrypoint.topology.retry)
        elif isinstance(entrypoint, EventBatchHandler):
            plans.append(entrypoint.plan)
    return plans


class BacklogWatch(Injects[None]):
    """Reports the backlog age of every consumed queue from start-up (0 while none waits), so
    an alert on it can fire after a restart."""

    def start(self) -> None:  # event handlers name their queues in their own setup
        for plan in consumed_queues(self.container):
            backlog.watch(self.container.service_name, plan.queue_name)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class RetryQueueGauges(GaugeSource):
    """Messages waiting in the delay queues and parked in the dead queue of every queue this
    service consumes, read from the broker (passive declares) at most every 15 s
    (`QUEUE_GAUGES_MAX_AGE_SECONDS`)."""

    MAX_AGE_SECONDS = 15.0
    suffix = "queues"

    def max_age(self) -> float:
        configured = self.container.config.get("QUEUE_GAUGES_MAX_AGE_SECONDS")
        return float(configured or self.MAX_AGE_SECONDS)

    def compute(self) -> list[Any]:
        pending, parked, config = [], [], self.container.config
        with Connection(
            config["AMQP_URI"], ssl=config.get("AMQP_SSL"), connect_timeout=CHECK_TIMEOUT_SECONDS
        ) as connection:
            channel = connection.default_channel

            def depth(queue: str) -> int:
                return channel.queue_declare(queue=queue, passive=True).message_count

            for plan in consumed_queues(self.container):
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


class OpenApi(Injects[dict[str, Any]]):
    """The service's OpenAPI document, built once at start-up (a route without a doc fails)."""

    def setup(self) -> None:
        self.document = build_document(self.container.service_cls, package_version())

    def get_dependency(self, worker_ctx: Any) -> dict[str, Any]:
        return self.document


class DocumentSchema(Schema):
    openapi = fields.String(required=True)
    info = fields.Dict(required=True)
    paths = fields.Dict(required=True)
    components = fields.Dict()


class OpsEndpoints:
    """Mixin for service classes: `GET /metrics`, `/health/live`, `/health/ready` (answered
    outside the worker pool, shared/health.py), `GET /openapi.json`, the declaration of every
    internal subscription queue at start-up, and the queue gauges."""

    entrypoint_metrics = EntrypointMetrics()
    ops_server = OpsServer()
    subscription_queues = SubscriptionQueues()
    retry_queue_gauges = RetryQueueGauges()
    backlog_watch = BacklogWatch()
    openapi = OpenApi()

    @http("GET", "/openapi.json", doc=Doc("this document", DocumentSchema))
    def openapi_document(self, request: Any) -> Response:
        return json_response(self.openapi)
