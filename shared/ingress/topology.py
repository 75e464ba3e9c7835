"""Names and declarations of the queues around one service's ingress.

tracker.ingress (topic) --"family.#"--> <service>.ingress
<service>.ingress --handler fails--> <service>.ingress.retry.<ms> --TTL--> <service>.ingress
after the last retry: <service>.ingress.dead; invalid input: tracker.ingress.rejected
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kombu import Queue, binding

from shared.publisher import INGRESS_EXCHANGE

REJECTED_QUEUE = "tracker.ingress.rejected"
DEFAULT_RETRY_DELAYS_MS = (1_000, 5_000, 30_000, 120_000, 600_000)


@dataclass(frozen=True)
class IngressTopology:
    service: str
    event_types: tuple[str, ...]
    retry_delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS

    @property
    def queue_name(self) -> str:
        return f"{self.service}.ingress"

    @property
    def dead_queue_name(self) -> str:
        return f"{self.queue_name}.dead"

    @property
    def families(self) -> list[str]:
        """`enterprise.#` for `enterprise.registered`: unknown types of a family still arrive
        here and are rejected with a reason, instead of being dropped by the exchange."""
        return sorted({event_type.split(".", 1)[0] for event_type in self.event_types})

    def work_queue(self) -> Queue:
        bindings = [binding(INGRESS_EXCHANGE, routing_key=f"{f}.#") for f in self.families]
        return Queue(self.queue_name, bindings=bindings, durable=True)

    def retry_queue_name(self, attempt: int) -> str:
        return f"{self.queue_name}.retry.{self.retry_delay_ms(attempt)}ms"

    def retry_delay_ms(self, attempt: int) -> int:
        return self.retry_delays_ms[attempt - 1]

    @property
    def max_retries(self) -> int:
        return len(self.retry_delays_ms)

    def retry_queues(self) -> list[Queue]:
        return [
            Queue(
                f"{self.queue_name}.retry.{delay}ms",
                durable=True,
                queue_arguments={
                    "x-message-ttl": delay,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue_name,
                },
            )
            for delay in sorted(set(self.retry_delays_ms))
        ]

    def all_queues(self) -> list[Queue]:
        return [
            self.work_queue(),
            *self.retry_queues(),
            Queue(self.dead_queue_name, durable=True),
            Queue(REJECTED_QUEUE, durable=True),
        ]

    def declare(self, channel: object) -> None:
        """Declare the exchange, every queue and every binding (idempotent)."""
        INGRESS_EXCHANGE(channel).declare()
        for queue in self.all_queues():
            queue(channel).declare()


def parse_delays(value: Iterable[int] | str | None) -> tuple[int, ...]:
    """Retry delays from config: a list, or a comma-separated string from the environment."""
    if value is None or value == "":
        return DEFAULT_RETRY_DELAYS_MS
    items: Sequence[int | str] = value.split(",") if isinstance(value, str) else list(value)
    delays = tuple(int(item) for item in items)
    if not delays or any(d <= 0 for d in delays):
        raise ValueError("INGRESS_RETRY_DELAYS_MS must be positive milliseconds")
    return delays
