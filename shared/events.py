"""Internal nameko events between services, handled reliably.

- Every subscription is listed in SUBSCRIPTIONS and every service declares all of their queues
  at start-up, so an event dispatched before its consumer first ran is queued, not dropped
  (and the ingress queues of every service, shared/ingress/topology.py INGRESS_FAMILIES).
- `@subscribe(source, event_type)` is nameko's event handler whose failures go to delay queues
  and then `<queue>.dead` (shared/retries.py), instead of being acked and lost.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from kombu import Connection, Queue
from kombu.message import Message
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange

from shared import backlog
from shared.ingress.topology import declare_ingress
from shared.metrics import count_event
from shared.publisher import Publisher
from shared.retries import (
    Redelivery,
    RetryPlan,
    forward_then_ack,
    parse_delays,
    settle_unless_gone,
)


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
)


def retry_plan(queue_name: str, config: dict[str, Any]) -> RetryPlan:
    return RetryPlan(queue_name, parse_delays(config.get("EVENT_RETRY_DELAYS_MS")))


def declare_subscriptions(amqp_uri: str, config: dict[str, Any]) -> None:
    with Connection(amqp_uri, ssl=config.get("AMQP_SSL")) as connection:
        channel = connection.default_channel
        declare_ingress(channel)
        for subscription in SUBSCRIPTIONS:
            subscription.queue(config)(channel).declare()
            for queue in retry_plan(subscription.queue_name, config).queues():
                queue(channel).declare()


class SubscriptionQueues(DependencyProvider):
    """Declares every internal subscription's queues when the service starts."""

    def start(self) -> None:
        declare_subscriptions(self.container.config["AMQP_URI"], self.container.config)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class ReliableEventHandler(EventHandler):
    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.publisher = Publisher(config["AMQP_URI"], ssl=config.get("AMQP_SSL"))
        self.redelivery = Redelivery(
            self.publisher, retry_plan(self.queue.name, self.container.config)
        )

    def stop(self) -> None:
        super().stop()
        self.publisher.close()

    def handle_message(self, body: Any, message: Message) -> None:
        backlog.received(self.container.service_name, self.queue.name, message)
        super().handle_message(body, message)

    def handle_message_processed(
        self, message: Message, result: Any = None, exc_info: Any = None
    ) -> None:
        what = f"{self.source_service}.{self.event_type} handler"
        outcome = ["processed"]

        def forward() -> None:
            if exc_info is not None:
                outcome[0] = self.redelivery.retry_or_park(message, exc_info[1], what)

        def ack() -> None:
            settle_unless_gone(self.queue_consumer.ack_message, message)
            backlog.settled(message)

        def requeue() -> None:
            settle_unless_gone(self.queue_consumer.requeue_message, message)
            backlog.released(message)

        if forward_then_ack(forward, ack, requeue):
            count_event(self.container.service_name, self.event_type, outcome[0])


subscribe = ReliableEventHandler.decorator
