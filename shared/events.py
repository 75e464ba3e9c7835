"""Internal nameko events between services, handled reliably.

- Every subscription is listed in SUBSCRIPTIONS and every service declares all of their queues
  at start-up, so an event dispatched before its consumer first ran is queued, not dropped
  (and the ingress queues of every service, shared/ingress/topology.py INGRESS_FAMILIES).
- `@subscribe(source, event_type)` takes the event's payloads in batches (shared/batches.py);
  failures go to delay queues and then `<queue>.dead` (shared/retries.py), instead of being
  acked and lost. `EventDispatcher` publishes a batch of events with one wait for the broker's
  confirms. The queues keep nameko's names and the messages its format, so a plain nameko
  `@event_handler` could still consume them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from kombu import Connection, Exchange, Queue
from kombu.message import Message
from nameko.standalone.events import get_event_exchange

from shared.batches import Batch, BatchEntrypoint
from shared.ingress.topology import declare_ingress
from shared.injection import Injects
from shared.metrics import EVENTS_DISPATCHED, count_event
from shared.publisher import Outgoing, Publisher
from shared.retries import Redelivery, RetryPlan, forward_then_ack, parse_delays


class Subscription(NamedTuple):
    source: str
    event_type: str
    service: str
    method: str

    @property
    def queue_name(self) -> str:
        """nameko's own name for a service-pool handler's queue."""
        return f"evt-{self.source}-{self.event_type}--{self.service}.{self.method}"

    def queue(self, config: dict[str, Any]) -> Queue:
        return Queue(
            self.queue_name,
            exchange=get_event_exchange(self.source, config),
            routing_key=self.event_type,
            durable=True,
            auto_delete=False,
            exclusive=False,
        )


SUBSCRIPTIONS = (
    Subscription("registry", "enterprise_updated", "tiering", "on_enterprise_updated"),
    Subscription("registry", "enterprise_updated", "incubators", "on_enterprise_updated"),
    Subscription("tiering", "tier_changed", "notifications", "on_tier_changed"),
    Subscription("incubators", "incubator_finding", "notifications", "on_finding"),
    Subscription("incubators", "snapshots_wanted", "registry", "resend_snapshots"),
)


def retry_plan(queue_name: str, config: dict[str, Any]) -> RetryPlan:
    return RetryPlan(
        queue_name, parse_delays(config.get("EVENT_RETRY_DELAYS_MS"), "EVENT_RETRY_DELAYS_MS")
    )


def declare_subscriptions(amqp_uri: str, config: dict[str, Any]) -> None:
    with Connection(amqp_uri, ssl=config.get("AMQP_SSL")) as connection:
        channel = connection.default_channel
        declare_ingress(channel)
        for subscription in SUBSCRIPTIONS:
            subscription.queue(config)(channel).declare()
            for queue in retry_plan(subscription.queue_name, config).queues():
                queue(channel).declare()


class SubscriptionQueues(Injects[None]):
    """Declares every internal subscription's queues when the service starts."""

    def start(self) -> None:
        declare_subscriptions(self.container.config["AMQP_URI"], self.container.config)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class EventBatchHandler(BatchEntrypoint):
    """`@subscribe(source, event_type)` on a service method that takes a `Batch` of the event's
    payloads (shared/batches.py). Failures go to delay queues and then `<queue>.dead`
    (shared/retries.py), instead of being acked and lost."""

    def __init__(self, source_service: str, event_type: str, **kwargs: Any):
        self.source_service, self.event_type = source_service, event_type
        super().__init__(**kwargs)

    def setup(self) -> None:
        config = self.container.config
        service = self.container.service_name
        subscription = Subscription(self.source_service, self.event_type, service, self.method_name)
        self.subscription = subscription
        self.queue = subscription.queue(config)
        self.publisher = Publisher(config["AMQP_URI"], ssl=config.get("AMQP_SSL"))
        self.plan = retry_plan(self.queue.name, config)
        self.redelivery = Redelivery(self.publisher, self.plan)
        super().setup()

    def declare(self, channel: Any) -> None:
        for queue in [self.queue, *self.plan.queues()]:
            queue(channel).declare()

    def stop(self) -> None:
        super().stop()
        self.publisher.close()

    def process(self, messages: list[Message]) -> None:
        payloads = []
        for message in messages:
            try:
                payloads.append((message, json.loads(message.body)))
            except ValueError as exc:  # not ours: park it after its retries, with the error
                self.settle(message, exc)
        batch = Batch(payload for _, payload in payloads)
        if not self.run_worker(batch):  # the container is being killed
            for message, _ in payloads:
                self.consumer.requeue_message(message)
            return
        for message, payload in payloads:
            self.settle(message, batch.failure(payload))

    def settle(self, message: Message, exc: BaseException | None) -> None:
        what = f"{self.source_service}.{self.event_type} handler"
        outcome = ["processed"]

        def forward() -> None:
            if exc is not None:
                outcome[0] = self.redelivery.retry_or_park(message, exc, what)

        if forward_then_ack(
            forward,
            lambda: self.consumer.ack_message(message),
            lambda: self.consumer.requeue_message(message),
        ):
            count_event(self.container.service_name, self.event_type, outcome[0])


subscribe = EventBatchHandler.decorator


class Dispatch:
    """What `EventDispatcher` injects: `dispatch(type, payload)`, or `dispatch.many(...)` for a
    batch, each returning once the broker has confirmed every message."""

    def __init__(self, publisher: Publisher, exchange: Exchange, service: str):
        self.publisher, self.exchange, self.service = publisher, exchange, service

    def __call__(self, event_type: str, payload: dict[str, Any]) -> None:
        self.many([(event_type, payload)])

    def many(self, events: Iterable[tuple[str, dict[str, Any]]]) -> None:
        messages = [
            Outgoing(
                json.dumps(payload, ensure_ascii=False, default=str).encode(),
                event_type,
                self.exchange,
            )
            for event_type, payload in events
        ]
        self.publisher.publish_many(messages)
        for message in messages:
            EVENTS_DISPATCHED.labels(self.service, message.routing_key).inc()


class EventDispatcher(Injects[Dispatch]):
    """Publishes this service's internal events to nameko's `<service>.events` exchange, routed
    by type, confirmed and mandatory (every subscription's queue is declared up front, so an
    event no queue takes is an error, not a silent drop)."""

    def setup(self) -> None:
        config = self.container.config
        self.exchange = get_event_exchange(self.container.service_name, config)
        self.publisher = Publisher(config["AMQP_URI"], ssl=config.get("AMQP_SSL"))

    def stop(self) -> None:
        self.publisher.close()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> Dispatch:
        return Dispatch(self.publisher, self.exchange, self.container.service_name)
