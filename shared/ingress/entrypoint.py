"""The `@ingress(type, schema)` entrypoint.

All ingress entrypoints of a service share one durable queue (`<service>.ingress`). Messages are
taken raw (kombu never decodes them, so no body can crash the consumer), parsed and validated
here, then handed to the handler of their type as a `CloudEvent` with validated `data`:

- invalid input, or a handler raising `EventRejected` -> `tracker.ingress.rejected`, with the
  original body and an `x-rejection-reason` header (JSON field errors);
- a (source, id) already processed -> acked and counted as a duplicate;
- any other failure -> republished to a delay queue, at most `len(INGRESS_RETRY_DELAYS_MS)`
  times, then parked in `<service>.ingress.dead` with the error. Never a hot requeue loop.

Every message is acked only after its outcome is durably somewhere (publisher confirms).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from functools import partial
from typing import Any

from kombu.message import Message
from marshmallow import Schema
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint
from nameko.messaging import QueueConsumer

from shared import backlog, health
from shared.envelope import CloudEvent, InvalidEvent, load_data, parse_envelope, parse_json
from shared.ingress.ledger import Claim, ProcessedEvents
from shared.ingress.topology import REJECTED_QUEUE, UNROUTED_QUEUE, IngressTopology, queue_name
from shared.metrics import count_event
from shared.mongo import MongoConnection
from shared.publisher import Publisher
from shared.retries import Redelivery, forward_then_ack, parse_delays, settle_unless_gone

log = logging.getLogger(__name__)

REJECTION_HEADER = "x-rejection-reason"
OTHER_TYPE = "other"  # metric label for types no handler declares: labels stay bounded
MAX_REASON_BYTES = 16_384
MAX_TEXT = 256
MAX_MESSAGES = 5
OMITTED = "_omitted"


def rejection_reason(errors: dict[str, list[str]]) -> str:
    """The field errors as JSON, small enough for a message header: AMQP sends headers in one
    frame (128 KiB by default), and a header the broker refuses would leave the message
    redelivered forever. Huge bodies can name huge unknown fields, so long names and messages
    are cut, and errors beyond MAX_REASON_BYTES are counted instead of listed."""
    reason = json.dumps(errors, ensure_ascii=False)
    if len(reason.encode()) <= MAX_REASON_BYTES:
        return reason
    kept: dict[str, list[str]] = {}
    for field, messages in errors.items():
        shortened = [message[:MAX_TEXT] for message in messages[:MAX_MESSAGES]]
        candidate = {**kept, field[:MAX_TEXT]: shortened}
        if len(json.dumps(candidate, ensure_ascii=False).encode()) > MAX_REASON_BYTES:
            break
        kept = candidate
    kept[OMITTED] = [f"{len(errors) - len(kept)} of {len(errors)} fields' errors left out"]
    return json.dumps(kept, ensure_ascii=False)


class EventRejected(Exception):
    """Raised by a handler for an event that can never be applied (e.g. graduation before
    admission): the event goes to `tracker.ingress.rejected` with these field errors."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(json.dumps(errors, ensure_ascii=False))
        self.errors = errors


class IngressQueueConsumer(QueueConsumer):
    """One kombu consumer on the service's ingress queue, dispatching by event type."""

    mongo = MongoConnection()

    def __init__(self) -> None:
        super().__init__()
        self.known_types: set[str] = set()  # kept after providers leave, to tell "stopping"

    def setup(self) -> None:
        config = self.container.config
        self.service = self.container.service_name
        self.publisher = Publisher(self.amqp_uri, ssl=config.get("AMQP_SSL"))
        lease = timedelta(seconds=float(config.get("INGRESS_CLAIM_LEASE_SECONDS") or 60))
        self.ledger = ProcessedEvents(self.mongo.db, lease)
        self.retry_delays = parse_delays(config.get("INGRESS_RETRY_DELAYS_MS"))
        self.redelivery = Redelivery(
            self.publisher, IngressTopology(self.service, (), self.retry_delays).retry
        )

    def register_provider(self, provider: Any) -> None:
        self.known_types.add(provider.event_type)
        super().register_provider(provider)

    def start(self) -> None:
        self.ledger.ensure_indexes()
        super().start()

    def stop(self) -> None:
        super().stop()
        self.publisher.close()

    def ack_message(self, message: Message) -> None:
        settle_unless_gone(super().ack_message, message)
        backlog.settled(message)

    def requeue_message(self, message: Message) -> None:
        settle_unless_gone(super().requeue_message, message)
        backlog.released(message)

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kw: Any) -> None:
        health.consumer_ready(self.service, "ingress")
        super().on_consume_ready(connection, channel, consumers, **kw)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        health.consumer_lost(self.service, "ingress", exc)
        super().on_connection_error(exc, interval)

    @property
    def handlers(self) -> dict[str, IngressEntrypoint]:
        return {provider.event_type: provider for provider in self._providers}

    @property
    def topology(self) -> IngressTopology:
        return IngressTopology(self.service, tuple(sorted(self.handlers)), self.retry_delays)

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Any]:
        """kombu callback after every (re)connection: declare everything, then consume."""
        topology = self.topology
        topology.declare(channel)
        consumer = consumer_cls(queues=[topology.work_queue()], on_message=self.on_raw_message)
        consumer.qos(prefetch_count=self.prefetch_count)
        unrouted = consumer_cls(queues=[UNROUTED_QUEUE], on_message=self.on_unrouted_message)
        unrouted.qos(prefetch_count=self.prefetch_count)
        self._consumers = {provider: consumer for provider in self._providers}
        self._unrouted_consumer = unrouted
        return [consumer, unrouted]

    def _cancel_consumers_if_requested(self) -> None:
        """The providers share one consumer (and the unrouted queue's): cancel them once, when
        the first provider leaves."""
        pending, self._pending_remove_providers = self._pending_remove_providers, {}
        cancelled: list[Any] = []
        for provider, removed in pending.items():
            consumer = self._consumers.pop(provider, None)
            if consumer is not None and consumer not in cancelled:
                consumer.cancel()
                self._unrouted_consumer.cancel()
                cancelled.append(consumer)
            removed.send()

    def on_raw_message(self, message: Message) -> None:
        backlog.received(self.service, queue_name(self.service), message)
        self.container.spawn_managed_thread(
            partial(self.process, message), identifier=f"{self.service}.ingress"
        )

    def on_unrouted_message(self, message: Message) -> None:
        self.container.spawn_managed_thread(
            partial(self.reject_unrouted, message), identifier=f"{self.service}.unrouted"
        )

    def reject_unrouted(self, message: Message) -> None:
        """A message whose routing key no service's family matched (see topology.py)."""
        key = message.delivery_info.get("routing_key", "")
        reason = f"no service takes routing key {key!r}; it must be the event's type"
        self.reject(message, {"type": [reason]}, OTHER_TYPE)

    def process(self, message: Message) -> None:
        try:
            event = parse_envelope(parse_json(message.body))
            handler = self.handlers.get(event.type)
            if handler is None and event.type in self.known_types:
                self.requeue_message(message)  # stopping: its handler has left already
                return
            if handler is None:
                raise InvalidEvent(
                    {"type": [f"unknown event type {event.type!r} for {self.service}"]}
                )
            event = load_data(event, handler.schema)
        except InvalidEvent as exc:
            self.reject(message, exc.errors, self.type_label(message))
            return
        except Exception as exc:  # a validation bug must not leave the message unacked
            log.exception("could not validate a %s message", self.type_label(message))
            errors = {"body": [f"could not be validated: {type(exc).__name__}"]}
            self.reject(message, errors, self.type_label(message))
            return
        try:
            claim = self.ledger.claim(event)
        except Exception as exc:  # database unavailable: retry later like any failure
            self.retry_or_park(message, event.type, exc)
            return
        if claim is Claim.DONE:
            count_event(self.service, event.type, "duplicate")
            self.ack_message(message)
        elif claim is Claim.BUSY:
            self.retry_or_park(message, event.type, RuntimeError("another worker is processing it"))
        else:
            handler.handle(event, message)

    def settle(self, message: Message, event: CloudEvent, exc: BaseException | None) -> None:
        """Called when the handler's worker is done: ack, reject, or schedule a retry."""
        try:
            if exc is None:
                self.ledger.complete(event)
            else:
                self.ledger.release(event)
        except Exception as ledger_exc:
            # Not recorded: the event is retried, and handlers are idempotent.
            exc = exc or ledger_exc
        if exc is None:
            count_event(self.service, event.type, "processed")
            self.ack_message(message)
        elif isinstance(exc, EventRejected):
            self.reject(message, exc.errors, event.type)
        else:
            self.retry_or_park(message, event.type, exc)

    def type_label(self, message: Message) -> str:
        key = message.delivery_info.get("routing_key", "")
        return key if key in self.handlers else OTHER_TYPE

    def reject(self, message: Message, errors: dict[str, list[str]], type_label: str) -> None:
        reason = rejection_reason(errors)
        log.warning("rejected %s message: %s", type_label, reason)
        headers = {REJECTION_HEADER: reason, "x-rejected-by": self.service}
        redelivery = self.redelivery
        if self.forward_then_ack(
            message, lambda: redelivery.forward(message, REJECTED_QUEUE, headers)
        ):
            count_event(self.service, type_label, "rejected")

    def retry_or_park(self, message: Message, event_type: str, exc: BaseException) -> None:
        redelivery = self.redelivery
        outcome: list[str] = []
        if self.forward_then_ack(
            message,
            lambda: outcome.append(redelivery.retry_or_park(message, exc, f"{event_type} event")),
        ):
            count_event(self.service, event_type, outcome[0])

    def forward_then_ack(self, message: Message, forward: Any) -> bool:
        return forward_then_ack(
            forward, lambda: self.ack_message(message), lambda: self.requeue_message(message)
        )


class IngressEntrypoint(Entrypoint):
    """`@ingress("enterprise.registered", EnterpriseRegisteredSchema)` on a service method."""

    consumer = IngressQueueConsumer()

    def __init__(self, event_type: str, schema: type[Schema], **kwargs: Any):
        self.event_type = event_type
        self.schema = schema()
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.consumer.register_provider(self)

    def stop(self) -> None:
        self.consumer.unregister_provider(self)

    def handle(self, event: CloudEvent, message: Message) -> None:
        try:
            self.container.spawn_worker(
                self, (event,), {}, handle_result=partial(self.handle_result, message, event)
            )
        except ContainerBeingKilled:
            self.consumer.requeue_message(message)

    def handle_result(
        self,
        message: Message,
        event: CloudEvent,
        worker_ctx: Any,
        result: Any = None,
        exc_info: Any = None,
    ) -> tuple[Any, Any]:
        self.consumer.settle(message, event, exc_info[1] if exc_info else None)
        return result, exc_info


ingress = IngressEntrypoint.decorator
