"""Confirmed publishing: a message counts as sent only once the broker has confirmed it.

Messages are sent on a channel in confirm mode and their confirms are awaited together, so a
batch of a hundred costs about one round trip instead of a hundred. Every message is
mandatory: one that no queue takes raises `Unroutable` instead of vanishing behind a positive
confirm.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import amqp
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Connection, Exchange

from shared.injection import Injects

log = logging.getLogger(__name__)

CLOUDEVENTS_JSON = "application/cloudevents+json"
INGRESS_EXCHANGE = Exchange("tracker.ingress", type="topic", durable=True)
CONFIRM_TIMEOUT_SECONDS = 30.0
ATTEMPTS = 5  # a lost connection is reopened and the unconfirmed messages sent again
WINDOW = 500  # messages in flight before their confirms are awaited
RECONNECT_PAUSE_SECONDS = 0.5


class Unroutable(Exception):
    """The broker confirmed a message that no queue took (no binding matched its routing key):
    it was dropped, so the publish failed."""


class Nacked(Exception):
    """The broker refused to take responsibility for a message (a nack): not published."""


@dataclass(frozen=True)
class Outgoing:
    """One message to publish: a raw body, where to, and how it is labelled."""

    body: bytes
    routing_key: str
    exchange: Exchange | str = ""
    content_type: str = "application/json"
    headers: dict[str, Any] = field(default_factory=dict)

    @property
    def exchange_name(self) -> str:
        return self.exchange.name if isinstance(self.exchange, Exchange) else self.exchange


class ConfirmChannel:
    """One connection with one channel in confirm mode, used by one caller at a time."""

    def __init__(self, amqp_uri: str, ssl: dict[str, Any] | None):
        self.amqp_uri, self.ssl = amqp_uri, ssl
        self.connection: Connection | None = None
        self.channel: Any = None
        self.declared: set[str] = set()
        self.next_tag = 1
        self.unconfirmed: dict[int, int] = {}  # delivery tag -> index in the current call
        self.confirmed: set[int] = set()  # indexes the broker took (or refused: see failed)
        self.failed: dict[int, Exception] = {}  # index -> why

    def open(self) -> Any:
        if self.channel is not None and self.channel.is_open:
            return self.channel
        self.close()
        self.connection = Connection(self.amqp_uri, ssl=self.ssl)
        self.connection.ensure_connection(max_retries=3, interval_start=0.2, interval_step=0.5)
        channel = self.connection.connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self.on_ack)
        channel.events["basic_nack"].add(self.on_nack)
        channel.events["basic_return"].add(self.on_return)
        self.channel, self.next_tag, self.declared = channel, 1, set()
        return channel

    def settled(self, tag: int, multiple: bool) -> list[int]:
        """The indexes a confirm covers, no longer unconfirmed."""
        tags = [t for t in self.unconfirmed if t == tag or (multiple and t < tag)]
        indexes = [self.unconfirmed.pop(t) for t in tags]
        self.confirmed.update(indexes)
        return indexes

    def on_ack(self, tag: int, multiple: bool) -> None:
        self.settled(tag, multiple)

    def on_nack(self, tag: int, multiple: bool) -> None:
        for index in self.settled(tag, multiple):
            self.failed.setdefault(index, Nacked("refused by the broker (nack)"))

    def on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        # A return comes before the confirm of the same message, so it is noted in time.
        index = int(message.properties.get("message_id") or -1)
        self.failed[index] = Unroutable(
            f"{exc}: exchange {exchange!r}, routing key {routing_key!r}"
        )

    def send(self, messages: Sequence[Outgoing]) -> dict[int, Exception]:
        """Publish all, then wait for every confirm; the failures by index (empty if none)."""
        channel = self.open()
        self.unconfirmed, self.confirmed, self.failed = {}, set(), {}
        for index, outgoing in enumerate(messages):
            exchange = outgoing.exchange
            if isinstance(exchange, Exchange) and exchange.name not in self.declared:
                exchange(channel).declare()
                self.declared.add(exchange.name)
            message = amqp.Message(
                outgoing.body,
                content_type=outgoing.content_type,
                content_encoding="binary",
                application_headers=outgoing.headers,
                delivery_mode=2,
                message_id=str(index),
                timestamp=int(time.time()),  # when it entered its queue: shared/backlog.py
            )
            channel.basic_publish(
                message,
                exchange=outgoing.exchange_name,
                routing_key=outgoing.routing_key,
                mandatory=True,
            )
            self.unconfirmed[self.next_tag] = index
            self.next_tag += 1
        deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
        assert self.connection is not None
        while self.unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.unconfirmed)} messages not confirmed in time")
            self.connection.drain_events(timeout=remaining)
        return self.failed

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # closing a broken connection: nothing left to save
                log.debug("closing a publisher connection failed", exc_info=True)


class Publisher:
    """Confirmed, mandatory publishing over a small pool of connections of its own (so that
    concurrent greenthreads never share a channel, and closing one publisher never closes
    another's)."""

    def __init__(self, amqp_uri: str, pool_size: int = 10, ssl: dict[str, Any] | None = None):
        self.amqp_uri, self.ssl = amqp_uri, ssl
        self.idle: list[ConfirmChannel] = []
        self.slots = threading.Semaphore(pool_size)  # green under eventlet

    def publish(
        self,
        body: bytes | str,
        routing_key: str,
        exchange: Exchange | str = "",
        content_type: str = "application/json",
        headers: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(body, str):  # kombu may hand a consumed body back decoded
            body = body.encode()
        self.publish_many([Outgoing(body, routing_key, exchange, content_type, headers or {})])

    def publish_many(self, messages: Sequence[Outgoing]) -> None:
        """Publish every message and wait for all their confirms, WINDOW at a time; raises the
        first failure (a refused or unroutable message; the others are published, so callers
        retry the lot and consumers drop repeats). A lost connection is reopened and what was
        not confirmed is sent again."""
        for start in range(0, len(messages), WINDOW):
            self.publish_window(messages[start : start + WINDOW])

    def publish_window(self, messages: Sequence[Outgoing]) -> None:
        pending, failed = list(messages), {}
        with self.slots:
            channel = self.idle.pop() if self.idle else ConfirmChannel(self.amqp_uri, self.ssl)
            try:
                for attempt in range(1, ATTEMPTS + 1):
                    try:
                        failed = channel.send(pending)
                        break
                    except (OSError, AmqpConnectionError, TimeoutError) as exc:
                        if attempt == ATTEMPTS:
                            raise
                        log.warning("publishing failed (%s); reconnecting", exc)
                        pending = [m for i, m in enumerate(pending) if i not in channel.confirmed]
                        channel.close()
                        time.sleep(RECONNECT_PAUSE_SECONDS * attempt)
            except BaseException:
                channel.close()
                raise
            self.idle.append(channel)
        if failed:
            raise next(iter(failed.values()))

    def publish_events(self, events: Iterable[dict[str, Any] | bytes]) -> int:
        """Publish CloudEvents (dicts, or raw bodies routed by `type`) to `tracker.ingress`."""
        messages = []
        for event in events:
            if isinstance(event, bytes):
                body, routing_key = event, "unparsed"
            else:
                body = json.dumps(event, ensure_ascii=False).encode()
                routing_key = str(event.get("type") or "untyped")
            messages.append(Outgoing(body, routing_key, INGRESS_EXCHANGE, CLOUDEVENTS_JSON))
        self.publish_many(messages)
        return len(messages)

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


class ConfirmedPublisher(Injects[Publisher]):
    """Injects a `Publisher` (publisher confirms on) for the service's own AMQP_URI."""

    def setup(self) -> None:
        config = self.container.config
        self.publisher = Publisher(config["AMQP_URI"], ssl=config.get("AMQP_SSL"))

    def stop(self) -> None:
        self.publisher.close()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> Publisher:
        return self.publisher
