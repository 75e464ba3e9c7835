"""Names and declarations of the queues around one service's ingress.

tracker.ingress (topic) --"family.#"--> <service>.ingress
<service>.ingress --handler fails--> <service>.ingress.retry.<ms> --TTL--> <service>.ingress
after the last retry: <service>.ingress.dead; invalid input: tracker.ingress.rejected
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Queue, binding

from shared.publisher import INGRESS_EXCHANGE
from shared.retries import DEFAULT_RETRY_DELAYS_MS, RetryPlan

REJECTED_QUEUE = "tracker.ingress.rejected"


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
        bindings = [binding(INGRESS_EXCHANGE, routing_key=f"{f}.#") for f in self.families]
        return Queue(self.queue_name, bindings=bindings, durable=True)

    def all_queues(self) -> list[Queue]:
        return [self.work_queue(), *self.retry.queues(), Queue(REJECTED_QUEUE, durable=True)]

    def declare(self, channel: object) -> None:
        """Declare the exchange, every queue and every binding (idempotent)."""
        INGRESS_EXCHANGE(channel).declare()
        for queue in self.all_queues():
            queue(channel).declare()
