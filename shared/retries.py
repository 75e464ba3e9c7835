"""Bounded, delayed retries for any consumed queue, and parking after the last one.

    <queue> --fails--> <queue>.retry.<ms> (TTL, dead-letters back to <queue>) ... <queue>.dead

A failed message is republished (confirmed) to the delay queue of its next attempt and the
original acked: never a hot requeue loop. After the last delay it is parked with its error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Queue
from kombu.exceptions import OperationalError
from kombu.message import Message

from shared.publisher import Publisher

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS_MS = (1_000, 5_000, 30_000, 120_000, 600_000)
RETRY_COUNT_HEADER = "x-retry-count"
ERROR_HEADER = "x-last-error"


def parse_delays(value: Iterable[int] | str | int | None, setting: str) -> tuple[int, ...]:
    """Retry delays from config: a list, or a comma-separated string from the environment (one
    number alone arrives as an int: nameko reads an environment value as YAML)."""
    if value is None or value == "":
        return DEFAULT_RETRY_DELAYS_MS
    if isinstance(value, int):
        value = [value]
    items: Sequence[int | str] = value.split(",") if isinstance(value, str) else list(value)
    problem = f"{setting} must be positive whole milliseconds, comma-separated; got {value!r}"
    try:
        delays = tuple(int(item) for item in items)
    except (TypeError, ValueError):
        raise ValueError(problem) from None
    if not delays or any(d <= 0 for d in delays):
        raise ValueError(problem)
    return delays


@dataclass(frozen=True)
class RetryPlan:
    queue_name: str
    delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS

    @property
    def dead_queue_name(self) -> str:
        return f"{self.queue_name}.dead"

    @property
    def max_retries(self) -> int:
        return len(self.delays_ms)

    def retry_delay_ms(self, attempt: int) -> int:
        return self.delays_ms[attempt - 1]

    def retry_queue_name(self, attempt: int) -> str:
        return self._delay_queue_name(self.retry_delay_ms(attempt))

    def _delay_queue_name(self, delay: int) -> str:
        return f"{self.queue_name}.retry.{delay}ms"

    def queues(self) -> list[Queue]:
        """The delay queues and the parking queue (the work queue is its consumer's)."""
        delays = [
            Queue(
                self._delay_queue_name(delay),
                durable=True,
                queue_arguments={
                    "x-message-ttl": delay,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue_name,
                },
            )
            for delay in sorted(set(self.delays_ms))
        ]
        return [*delays, Queue(self.dead_queue_name, durable=True)]


REQUEUE_PAUSE_SECONDS = 1.0
# What an ack or a requeue raises on a connection the broker has just closed (a restart): a
# reset or broken socket, or the client's own "connection closed".
CONNECTION_LOST = (OSError, AmqpConnectionError, OperationalError)


def settle_unless_gone(settle: Callable[[Message], None], message: Message) -> None:
    """Ack or requeue, unless the message's connection is gone: the broker has then taken the
    message back and delivers it again (the ledger and idempotent handlers make that
    harmless). nameko skips connections it knows are closed, but an error from one that dies
    during the call would escape the worker and kill the whole service."""
    try:
        settle(message)
    except CONNECTION_LOST as exc:
        log.warning(
            "message not settled, its connection is gone (%s): the broker delivers it again", exc
        )


def forward_then_ack(
    forward: Callable[[], object], ack: Callable[[], None], requeue: Callable[[], None]
) -> bool:
    """Ack a message only once its copy is safely elsewhere. If the broker refuses the copy,
    the message goes back to its queue after a pause (a slow loop while the broker is unwell,
    never a lost message, never a crashed consumer)."""
    try:
        forward()
    except Exception:
        log.exception("could not forward a message; it goes back to its queue")
        time.sleep(REQUEUE_PAUSE_SECONDS)
        requeue()
        return False
    ack()
    return True


class Redelivery:
    def __init__(self, publisher: Publisher, plan: RetryPlan):
        self.publisher, self.plan = publisher, plan

    def retry_or_park(self, message: Message, exc: BaseException, what: str) -> str:
        """Republish to the next delay queue or park; returns "retried" or "dead_lettered".
        The caller acks the original afterwards."""
        attempt = int((message.headers or {}).get(RETRY_COUNT_HEADER, 0)) + 1
        error = f"{type(exc).__name__}: {exc}"[:1000]
        if attempt <= self.plan.max_retries:
            log.warning(
                "%s failed (attempt %d), retrying in %d ms: %s",
                what,
                attempt,
                self.plan.retry_delay_ms(attempt),
                error,
            )
            self.forward(
                message,
                self.plan.retry_queue_name(attempt),
                {RETRY_COUNT_HEADER: attempt, ERROR_HEADER: error},
            )
            return "retried"
        log.error(
            "%s failed %d times, parked in %s: %s", what, attempt, self.plan.dead_queue_name, error
        )
        self.forward(
            message,
            self.plan.dead_queue_name,
            {RETRY_COUNT_HEADER: attempt - 1, ERROR_HEADER: error},
        )
        return "dead_lettered"

    def forward(self, message: Message, queue: str, extra_headers: dict[str, Any]) -> None:
        """Republish the original body, confirmed, before the original is acked."""
        headers = {**(message.headers or {}), **extra_headers}
        headers.setdefault("x-original-routing-key", message.delivery_info.get("routing_key", ""))
        self.publisher.publish(
            message.body, queue, content_type=message.content_type or "", headers=headers
        )
