"""The `@ingress({type: schema, ...})` entrypoint: a service's batch handler of its ingress.

A service takes its event types from one durable queue (`<service>.ingress`). Messages are
taken raw (kombu never decodes them, so no body can crash the consumer), parsed and validated
here, then handed to the service method in batches (shared/batches.py) as `CloudEvent`s with
validated `data`:

- invalid input, or an event the handler fails with `EventRejected` ->
  `tracker.ingress.rejected`, with the original body and an `x-rejection-reason` header (JSON
  field errors);
- a (source, id) already processed -> acked and counted as a duplicate;
- any other failure -> republished to a delay queue, at most `len(INGRESS_RETRY_DELAYS_MS)`
  times, then parked in `<service>.ingress.dead` with the error. Never a hot requeue loop.

Every message is acked only after its outcome is durably somewhere (publisher confirms).
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

from kombu.message import Message
from marshmallow import Schema

from shared.batches import Batch, BatchEntrypoint
from shared.envelope import CloudEvent, InvalidEvent, load_data, parse_envelope, parse_json
from shared.ingress.ledger import ProcessedEvents, entry_id
from shared.ingress.topology import REJECTED_QUEUE, UNROUTED_QUEUE, IngressTopology
from shared.metrics import count_event
from shared.mongo import MongoConnection
from shared.publisher import Publisher
from shared.retries import Redelivery, forward_then_ack, parse_delays

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
    """An event that can never be applied (e.g. graduation before admission): a handler fails
    it with this, and it goes to `tracker.ingress.rejected` with these field errors."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(json.dumps(errors, ensure_ascii=False))
        self.errors = errors


class IngressEntrypoint(BatchEntrypoint):
    """`@ingress({"enterprise.registered": EnterpriseRegistered, ...})` on the one service method
    that takes a `Batch` of validated CloudEvents (see shared/batches.py): the service's ingress
    queue, validated, de-duplicated, and each message settled on its own."""

    mongo = MongoConnection()

    def __init__(self, schemas: dict[str, type[Schema]], **kwargs: Any):
        self.schemas = {event_type: schema() for event_type, schema in schemas.items()}
        super().__init__(**kwargs)

    def setup(self) -> None:
        config = self.container.config
        self.service = self.container.service_name
        delays = parse_delays(config.get("INGRESS_RETRY_DELAYS_MS"), "INGRESS_RETRY_DELAYS_MS")
        self.topology = IngressTopology(self.service, tuple(sorted(self.schemas)), delays)
        self.queue = self.topology.work_queue()
        self.publisher = Publisher(self.amqp_uri, ssl=config.get("AMQP_SSL"))
        self.ledger = ProcessedEvents(self.mongo.db)
        self.redelivery = Redelivery(self.publisher, self.topology.retry)
        self.unrouted = UnroutedQueue(self)
        super().setup()
        self.consumer.register_provider(self.unrouted)

    @property
    def amqp_uri(self) -> str:
        return str(self.container.config["AMQP_URI"])

    def declare(self, channel: Any) -> None:
        self.topology.declare(channel)

    def stop(self) -> None:
        super().stop()
        self.consumer.unregister_provider(self.unrouted)
        self.publisher.close()

    def process(self, messages: list[Message]) -> None:
        events = []
        for message in messages:
            try:
                events.append((message, self.validate(message)))
            except InvalidEvent as exc:
                self.reject(message, exc.errors, self.type_label(message))
        try:
            done = self.ledger.done(event for _, event in events)
        except Exception as exc:  # database unavailable: retry later like any failure
            for message, event in events:
                self.retry_or_park(message, event.type, exc)
            return
        fresh = []
        for message, event in events:
            if entry_id(event) in done:  # processed before, or a second copy in this batch
                self.settle_duplicate(message, event)
            else:
                done.add(entry_id(event))
                fresh.append((message, event))
        if fresh:
            self.handle([event for _, event in fresh], fresh)

    def handle(self, events: list[CloudEvent], fresh: list[tuple[Message, CloudEvent]]) -> None:
        batch = Batch(events)
        if not self.run_worker(batch):  # the container is being killed
            for message, _ in fresh:
                self.consumer.requeue_message(message)
            return
        handled = batch.handled()
        try:
            recorded_elsewhere = self.ledger.record(handled)
        except Exception as exc:  # not recorded: retried, and handlers are idempotent
            for event in handled:
                batch.fail(event, exc)
            recorded_elsewhere = set()
        for message, event in fresh:
            failure = batch.failure(event)
            if failure is None and entry_id(event) in recorded_elsewhere:
                self.settle_duplicate(message, event)  # another replica took the same copy
            elif failure is None:
                count_event(self.service, event.type, "processed")
                self.consumer.ack_message(message)
            elif isinstance(failure, EventRejected):
                self.reject(message, failure.errors, event.type)
            else:
                self.retry_or_park(message, event.type, failure)

    def validate(self, message: Message) -> CloudEvent:
        """The message as a CloudEvent with validated `data`, or InvalidEvent with the fields."""
        try:
            event = parse_envelope(parse_json(message.body))
            schema = self.schemas.get(event.type)
            if schema is None:
                raise InvalidEvent(
                    {"type": [f"unknown event type {event.type!r} for {self.service}"]}
                )
            return load_data(event, schema)
        except InvalidEvent:
            raise
        except Exception as exc:  # a validation bug must not leave the message unacked
            log.exception("could not validate a %s message", self.type_label(message))
            raise InvalidEvent({"body": [f"could not be validated: {type(exc).__name__}"]}) from exc

    def settle_duplicate(self, message: Message, event: CloudEvent) -> None:
        count_event(self.service, event.type, "duplicate")
        self.consumer.ack_message(message)

    def type_label(self, message: Message) -> str:
        key = message.delivery_info.get("routing_key", "")
        return key if key in self.schemas else OTHER_TYPE

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
            forward,
            lambda: self.consumer.ack_message(message),
            lambda: self.consumer.requeue_message(message),
        )


class UnroutedQueue:
    """The second queue an ingress entrypoint consumes: messages whose routing key no
    service's family matched (see topology.py), each rejected with the reason."""

    queue = UNROUTED_QUEUE

    def __init__(self, entrypoint: IngressEntrypoint):
        self.entrypoint = entrypoint

    def declare(self, channel: Any) -> None:
        """Declared with the rest of the ingress topology."""

    def take(self, message: Message) -> None:
        self.entrypoint.container.spawn_managed_thread(
            partial(self.reject, message), identifier="ingress.unrouted"
        )

    def reject(self, message: Message) -> None:
        key = message.delivery_info.get("routing_key", "")
        reason = f"no service takes routing key {key!r}; it must be the event's type"
        self.entrypoint.reject(message, {"type": [reason]}, OTHER_TYPE)


ingress = IngressEntrypoint.decorator
