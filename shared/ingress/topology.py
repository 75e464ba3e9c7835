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

from kombu import Exchange, Queue, binding

from shared.publisher import INGRESS_EXCHANGE
from shared.retries import DEFAULT_RETRY_DELAYS_MS, RetryPlan

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


@dataclass(frozen=True)
class IngressTopology:
    service: str
    event_types: tuple[str, ...]
    retry_delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS

    @property
    def queue_name(self) -> str:
        return f"{self.service}.ingress"

    @property
    def retry(self) -> RetryPlan:
        return RetryPlan(self.queue_name, self.retry_delays_ms)

    @property
    def families(self) -> list[str]:
        """`enterprise.#` for `enterprise.registered`: unknown types of a family still arrive
        here and are rejected with a reason, instead of being dropped by the exchange."""
        return sorted({event_type.split(".", 1)[0] for event_type in self.event_types})

    def work_queue(self) -> Queue:
        bindings = [binding(ROUTING_EXCHANGE, routing_key=f"{f}.#") for f in self.families]
        return Queue(self.queue_name, bindings=bindings, durable=True)

    def all_queues(self) -> list[Queue]:
        rejected = Queue(REJECTED_QUEUE, durable=True)
        return [self.work_queue(), *self.retry.queues(), rejected, UNROUTED_QUEUE]

    def declare(self, channel: object) -> None:
        """Declare the exchanges, every queue and every binding (idempotent)."""
        INGRESS_EXCHANGE(channel).declare()
        UNROUTED_EXCHANGE(channel).declare()
        routing = ROUTING_EXCHANGE(channel)
        routing.declare()
        routing.bind_to(INGRESS_EXCHANGE, routing_key="#")
        for queue in self.all_queues():
            queue(channel).declare()
