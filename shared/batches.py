"""Consuming a queue in batches: the messages already delivered are handled as one unit.

nameko runs one worker per message, and a handler then talks to the database one document at a
time: on the local FerretDB a command costs far more than a document in it (measured: an insert
alone 0.62 ms, as one of 50 in a command 0.05 ms). A `BatchEntrypoint` takes whatever its
consumer has been delivered (up to `BATCH_SIZE`, with `BATCH_PREFETCH` in flight so that the
next batch arrives while this one is handled) and runs the service method once, in one nameko
worker, with a `Batch` of them. The method reads and writes for the whole batch at once and
marks the items that failed; each message is then acked, rejected or retried on its own, so
every message still has its own outcome. A lone message is handled at once: nothing waits for
a batch to fill.

One batch per entrypoint is in flight at a time, so within a process no two batches race on
the same record; other processes (replicas) are kept apart by the versions the storage layers
guard their writes with.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from kombu.message import Message
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint
from nameko.messaging import QueueConsumer

from shared import backlog, health
from shared.retries import settle_unless_gone

log = logging.getLogger(__name__)

Item = TypeVar("Item")
DEFAULT_BATCH_SIZE = 100
DEFAULT_PREFETCH = 200
CONSUMER = "queues"  # how readiness names the consumer (shared/health.py)


class Batch(Generic[Item]):
    """The items a handler gets at once, and the ones it could not handle (each with why)."""

    def __init__(self, items: Iterable[Item]):
        self.items = list(items)
        self._positions = {id(item): n for n, item in enumerate(self.items)}
        self.failures: dict[int, BaseException] = {}

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def fail(self, item: Item, exc: BaseException) -> None:
        """This item alone is not handled: a rejection (see shared/ingress) or a retry."""
        self.failures.setdefault(self._positions[id(item)], exc)

    def failure(self, item: Item) -> BaseException | None:
        return self.failures.get(self._positions[id(item)])

    @contextmanager
    def each(self, *items: Item) -> Iterator[None]:
        """Handle `items` together: an exception fails them (and only them)."""
        try:
            yield
        except Exception as exc:
            for item in items:
                self.fail(item, exc)

    def handled(self) -> list[Item]:
        return [item for n, item in enumerate(self.items) if n not in self.failures]


class BatchQueueConsumer(QueueConsumer):
    """nameko's queue consumer (one connection per service, reconnection, graceful stop), handing
    raw messages to their entrypoint's buffer instead of a greenthread each. Messages are never
    decoded by kombu, so no body can crash the consumer."""

    @property
    def prefetch_count(self) -> int:
        return int(self.container.config.get("BATCH_PREFETCH") or DEFAULT_PREFETCH)

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Any]:
        """kombu's callback after every (re)connection: declare, then consume."""
        for provider in self._providers:
            provider.declare(channel)
            consumer = consumer_cls(queues=[provider.queue], on_message=provider.take)
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return list(self._consumers.values())

    def ack_message(self, message: Message) -> None:
        settle_unless_gone(super().ack_message, message)
        backlog.settled(message)

    def requeue_message(self, message: Message) -> None:
        settle_unless_gone(super().requeue_message, message)
        backlog.released(message)

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kw: Any) -> None:
        health.consumer_ready(self.container.service_name, CONSUMER)
        super().on_consume_ready(connection, channel, consumers, **kw)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        health.consumer_lost(self.container.service_name, CONSUMER, exc)
        super().on_connection_error(exc, interval)


class BatchEntrypoint(Entrypoint):
    """Base of the batch entrypoints: buffers what the consumer delivers and hands it, a batch at
    a time, to `process` (subclasses: decode, run the worker, settle each message)."""

    consumer = BatchQueueConsumer()
    queue: Any = None  # set by subclasses: the kombu Queue consumed

    def setup(self) -> None:
        config = self.container.config
        self.batch_size = int(config.get("BATCH_SIZE") or DEFAULT_BATCH_SIZE)
        self.buffer: deque[Message] = deque()
        self.arrived = threading.Event()  # green under eventlet
        self.stopping = False
        self.loop: Any = None
        self.consumer.register_provider(self)

    def declare(self, channel: Any) -> None:
        """Declare what this entrypoint consumes and forwards to (after every connection)."""
        self.queue(channel).declare()

    def start(self) -> None:
        self.loop = self.container.spawn_managed_thread(
            self.run, identifier=f"{self.method_name}.batches"
        )

    def stop(self) -> None:
        """Finish and settle the batch in hand, give back what was delivered but not begun,
        then stop consuming (acks need the consumer's connection, so it goes last)."""
        self.stopping = True
        self.arrived.set()
        if self.loop is not None:
            self.loop.wait()
        self.consumer.unregister_provider(self)

    def kill(self) -> None:
        if self.loop is not None:
            self.loop.kill()

    def take(self, message: Message) -> None:
        """kombu's callback for each delivered message (in the consumer's greenthread)."""
        backlog.received(self.container.service_name, self.queue.name, message)
        self.buffer.append(message)
        self.arrived.set()

    def run(self) -> None:
        while True:
            self.arrived.wait()
            self.arrived.clear()
            while self.buffer and not self.stopping:
                count = min(self.batch_size, len(self.buffer))
                self.process([self.buffer.popleft() for _ in range(count)])
            if self.stopping:
                while self.buffer:  # delivered but not begun: the broker delivers them again
                    self.consumer.requeue_message(self.buffer.popleft())
                return

    def process(self, messages: list[Message]) -> None:
        raise NotImplementedError

    def run_worker(self, batch: Batch[Any]) -> bool:
        """The service method on `batch`, in nameko workers (so dependencies are injected and
        each call is timed like any entrypoint's); False if the container is being killed.

        When the method raises instead of failing items, each item is run again in a batch of
        its own, so that one poisonous item cannot take its batch-mates down with it: they
        succeed alone, and only what fails alone keeps its failure."""
        raised = self.call(batch)
        if isinstance(raised, ContainerBeingKilled):
            return False
        if raised is None:
            return True
        if len(batch) == 1:
            batch.fail(batch.items[0], raised)
            return True
        for item in batch.handled():
            alone = Batch([item])
            raised = self.call(alone)
            if isinstance(raised, ContainerBeingKilled):
                return False
            failure = alone.failure(item) or raised
            if failure is not None:
                batch.fail(item, failure)
        return True

    def call(self, batch: Batch[Any]) -> BaseException | None:
        """One worker on `batch`; what the method raised, if anything."""
        finished = threading.Event()
        outcome: list[BaseException | None] = [None]

        def handle_result(worker_ctx: Any, result: Any = None, exc_info: Any = None) -> Any:
            outcome[0] = exc_info[1] if exc_info else None
            finished.set()
            return result, exc_info

        try:
            self.container.spawn_worker(self, (batch,), {}, handle_result=handle_result)
        except ContainerBeingKilled as exc:
            return exc
        finished.wait()
        return outcome[0]
