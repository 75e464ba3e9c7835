"""Confirmed publishing: a message counts as sent only once the broker has confirmed it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from kombu import Connection, Exchange, Producer
from kombu.pools import ProducerPool
from nameko.extensions import DependencyProvider

CLOUDEVENTS_JSON = "application/cloudevents+json"
INGRESS_EXCHANGE = Exchange("tracker.ingress", type="topic", durable=True)
RETRY_POLICY = {"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 3}


def confirming_connection(amqp_uri: str, ssl: dict[str, Any] | None = None) -> Connection:
    return Connection(amqp_uri, ssl=ssl, transport_options={"confirm_publish": True})


class Unroutable(Exception):
    """The broker confirmed a message that no queue took (no binding matched its routing key):
    it was dropped, so the publish failed."""


class ReturnNoting(Producer):
    """Notes what the broker returns as unroutable. The return arrives before the confirm, so
    it is noted by the time `publish` comes back."""

    def __init__(self, channel: Any, *args: Any, **kwargs: Any):
        self.returned: list[str] = []
        super().__init__(channel, *args, on_return=self.note_return, **kwargs)

    def note_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        self.returned.append(f"{exc}: exchange {exchange!r}, routing key {routing_key!r}")


class Publisher:
    """Publishes raw bodies with publisher confirms, from its own pool of producers (so
    closing one publisher never closes another's). Messages are mandatory: one that no queue
    takes raises `Unroutable` instead of vanishing behind a positive confirm."""

    def __init__(self, amqp_uri: str, pool_size: int = 10, ssl: dict[str, Any] | None = None):
        self.connection = confirming_connection(amqp_uri, ssl)
        self._connections = self.connection.Pool(limit=pool_size)
        self._producers = ProducerPool(self._connections, limit=pool_size, Producer=ReturnNoting)

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
        with self._producers.acquire(block=True, timeout=30) as producer:
            producer.returned.clear()
            producer.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                content_type=content_type,
                content_encoding="binary",
                headers=headers or {},
                delivery_mode=2,
                timestamp=int(time.time()),  # when it entered its queue: shared/backlog.py
                mandatory=True,
                declare=[exchange] if isinstance(exchange, Exchange) else [],
                retry=True,
                retry_policy=RETRY_POLICY,
            )
            if producer.returned:
                raise Unroutable(producer.returned[0])

    def publish_events(self, events: Iterable[dict[str, Any] | bytes]) -> int:
        """Publish CloudEvents (dicts, or raw bodies routed by `type`) to `tracker.ingress`."""
        sent = 0
        for event in events:
            if isinstance(event, bytes):
                body, routing_key = event, "unparsed"
            else:
                body = json.dumps(event, ensure_ascii=False).encode()
                routing_key = str(event.get("type") or "untyped")
            self.publish(body, routing_key, INGRESS_EXCHANGE, CLOUDEVENTS_JSON)
            sent += 1
        return sent

    def close(self) -> None:
        self._producers.force_close_all()
        self._connections.force_close_all()
        self.connection.release()


class ConfirmedPublisher(DependencyProvider):
    """Injects a `Publisher` (publisher confirms on) for the service's own AMQP_URI."""

    def setup(self) -> None:
        config = self.container.config
        self.publisher = Publisher(config["AMQP_URI"], ssl=config.get("AMQP_SSL"))

    def stop(self) -> None:
        self.publisher.close()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> Publisher:
        return self.publisher
