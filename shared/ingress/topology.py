"""Names and declarations of the queues around one service's ingress.

tracker.ingress (topic) --"#"--> tracker.ingress.routing (topic) --"family.#"--> <service>.ingress
tracker.ingress.routing --no binding matches--> tracker.ingress.unrouted --> rejected
<service>.ingress --handler fails--> <service>.ingress.retry.<ms> --TTL--> <service>.ingress
after the last retry: <service>.ingress.dead; invalid input: tracker.ingress.rejected

The routing exchange exists for its alternate exchange: RabbitMQ drops a message no binding
matches, and `tracker.ingress` itself must stay as CONTRACT.md declares it (publishers that
declare it with other arguments would be refused), so a routing key of no known family (a
misspelt type) is caught one hop later and rejected with a reason instead of vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kombu import Exchange, Queue, binding

from shared.publisher import INGRESS_EXCHANGE
from shared.retries import DEFAULT_RETRY_DELAYS_MS, RetryPlan

if TYPE_CHECKING:
    from kombu import Connection
    from kombu.transport.virtual import Channel

REJECTED_QUEUE = "tracker.ingress.rejected"
UNROUTED = "tracker.ingress.unrouted"
UNROUTED_EXCHANGE = Exchange(UNROUTED, type="fanout", durable=True)
ROUTING_EXCHANGE = Exchange(
    "tracker.ingress.routing",
    type="topic",
    durable=True,
    arguments={"alternate-exchange": UNROUTED},
)
UNROUTED_QUEUE = Queue(UNROUTED, exchange=UNROUTED_EXCHANGE, durable=True)
# Which service takes which event families: every service declares all these queues when it
# starts, so an event published before its own service first ran is queued, not rejected.
INGRESS_FAMILIES = {"registry": ("enterprise",), "incubators": ("incubator",)}


def queue_name(service: str) -> str:
    return f"{service}.ingress"


def work_queue(service: str, families: list[str] | tuple[str, ...]) -> Queue:
    bindings = [binding(ROUTING_EXCHANGE, routing_key=f"{f}.#") for f in families]
    return Queue(queue_name(service), bindings=bindings, durable=True)


def declare_ingress(channel: Channel | Connection) -> None:
    """The exchanges, the routing binding, every service's work queue and the shared queues
    (idempotent)."""
    INGRESS_EXCHANGE(channel).declare()
    UNROUTED_EXCHANGE(channel).declare()
    routing = ROUTING_EXCHANGE(channel)
    routing.declare()
    routing.bind_to(INGRESS_EXCHANGE, routing_key="#")
    for service, families in INGRESS_FAMILIES.items():
        work_queue(service, families)(channel).declare()
    Queue(REJECTED_QUEUE, durable=True)(channel).declare()
    UNROUTED_QUEUE(channel).declare()


@dataclass(frozen=True)
class IngressTopology:
    service: str
    event_types: tuple[str, ...]
    retry_delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS

    @property
    def queue_name(self) -> str:
        return queue_name(self.service)

    @property
    def retry(self) -> RetryPlan:
        return RetryPlan(self.queue_name, self.retry_delays_ms)

    @property
    def families(self) -> list[str]:
        """`enterprise.#` for `enterprise.registered`: unknown types of a family still arrive
        here and are rejected with a reason, instead of being dropped by the exchange."""
        return sorted({event_type.split(".", 1)[0] for event_type in self.event_types})

    def work_queue(self) -> Queue:
        return work_queue(self.service, self.families)

    def declare(self, channel: Channel | Connection) -> None:
        """Everything `declare_ingress` does, then this service's queues (idempotent)."""
        declare_ingress(channel)
        for queue in [self.work_queue(), *self.retry.queues()]:
            queue(channel).declare()
