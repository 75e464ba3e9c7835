"""Confirmed publishing: a message counts as sent only once the broker has confirmed it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kombu import Connection, Exchange
from kombu.pools import ProducerPool
from nameko.extensions import DependencyProvider

CLOUDEVENTS_JSON = "application/cloudevents+json"
INGRESS_EXCHANGE = Exchange("tracker.ingress", type="topic", durable=True)
RETRY_POLICY = {"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 3}


def confirming_connection(amqp_uri: str, ssl: dict[str, Any] | None = None) -> Connection:
    return Connection(amqp_uri, ssl=ssl, transport_options={"confirm_publish": True})


class Publisher:
    """Publishes raw bodies with publisher confirms, from its own pool of producers (so
    closing one publisher never closes another's)."""

    def __init__(self, amqp_uri: str, pool_size: int = 10, ssl: dict[str, Any] | None = None):
        self.connection = confirming_connection(amqp_uri, ssl)
        self._connections = self.connection.Pool(limit=pool_size)
        self._producers = ProducerPool(self._connections, limit=pool_size)

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
            producer.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                content_type=content_type,
                content_encoding="binary",
                headers=headers or {},
                delivery_mode=2,
                declare=[exchange] if isinstance(exchange, Exchange) else [],
                retry=True,
                retry_policy=RETRY_POLICY,
            )

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
