"""The broker's own floor: raw kombu, one publisher and one consumer at once, persistent
~300-byte messages, publisher confirms on, manual acks, prefetch 100."""

from __future__ import annotations

import threading
import time
from typing import Any

from kombu import Connection, Exchange, Producer, Queue

MESSAGES = 20_000
BODY = b"x" * 300
PREFETCH = 100


def run(amqp_uri: str, messages: int = MESSAGES) -> dict[str, Any]:
    queue = Queue(
        "bench.baseline",
        Exchange("bench.baseline", type="direct"),
        routing_key="bench",
        durable=True,
    )
    with Connection(amqp_uri) as setup:
        bound = queue(setup.default_channel)
        bound.declare()
        bound.purge()
    consumed = threading.Event()
    started = time.monotonic()
    consumer = threading.Thread(target=consume, args=(amqp_uri, queue, messages, consumed))
    consumer.start()
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.default_channel, exchange=queue.exchange)
        for _ in range(messages):
            producer.publish(
                BODY, routing_key="bench", delivery_mode=2, content_type="application/octet-stream"
            )
    published = time.monotonic()
    consumer.join()
    finished = time.monotonic()
    with Connection(amqp_uri) as cleanup:
        queue(cleanup.default_channel).delete()
    return {
        "messages": messages,
        "seconds": round(finished - started, 2),
        "publish_seconds": round(published - started, 2),
        "messages_per_second": round(messages / (finished - started), 1),
    }


def consume(amqp_uri: str, queue: Queue, messages: int, done: threading.Event) -> None:
    count = 0

    def handle(body: Any, message: Any) -> None:
        nonlocal count
        message.ack()
        count += 1

    with (
        Connection(amqp_uri) as conn,
        conn.Consumer(queue, callbacks=[handle], prefetch_count=PREFETCH, no_ack=False),
    ):
        while count < messages:
            conn.drain_events(timeout=30)
    done.set()
