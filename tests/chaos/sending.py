"""Publishers that outlast the faults they are sent through, as a real feed must.

An enterprise event is published with confirms and, when the broker is away, again on a new
connection until it is confirmed; an incubator batch is posted again after a refused
connection or a 5xx. So an event may arrive twice (a confirm lost in a restart, a 202 lost in a
kill), which the services must take as the duplicate it is: never once too few.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any, TypeVar

import requests

from shared.publisher import CLOUDEVENTS_JSON, INGRESS_EXCHANGE, Publisher
from tools.province.loader import carrier_batches, post_batch, routing_key

PUBLISH_THREADS = 4
PAUSE_SECONDS = 0.5
T = TypeVar("T")


class Unrecoverable(RuntimeError):
    pass


def until_done(
    attempt: Callable[[], T | None],
    deadline: float,
    what: str,
    count: Counter,
    on_error: Callable[[], None] = lambda: None,
) -> T:
    """`attempt()` until it returns something; each exception or None counts as one retry."""
    while True:
        try:
            result = attempt()
        except Unrecoverable:
            raise
        except Exception:
            on_error()
            result = None
        if result is not None:
            return result
        count["retries"] += 1
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: still failing at the deadline")
        time.sleep(PAUSE_SECONDS)


class Feed:
    """Confirmed publishing that starts over on a new connection when the broker went away."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri, self.publisher = amqp_uri, Publisher(amqp_uri)

    def send(self, body: bytes) -> bool:
        self.publisher.publish(body, routing_key(body), INGRESS_EXCHANGE, CLOUDEVENTS_JSON)
        return True

    def renew(self) -> None:
        with suppress(Exception):
            self.publisher.close()
        self.publisher = Publisher(self.amqp_uri)


def publish(amqp_uri: str, bodies: list[bytes], timeout: float) -> Counter:
    """Every body confirmed by the broker, from a few connections at once."""
    deadline, count = time.monotonic() + timeout, Counter()

    def run(chunk: list[bytes]) -> None:
        feed = Feed(amqp_uri)
        for body in chunk:
            until_done(lambda b=body: feed.send(b), deadline, "publishing", count, feed.renew)
            count["published"] += 1
        feed.publisher.close()

    with ThreadPoolExecutor(PUBLISH_THREADS) as pool:
        chunks = [bodies[i::PUBLISH_THREADS] for i in range(PUBLISH_THREADS)]
        for future in [pool.submit(run, chunk) for chunk in chunks]:
            future.result()
    return count


def post(url: str, keys: dict[str, str], events: list[dict[str, Any]], timeout: float) -> Counter:
    """Each carrier's events in batches on `POST /v1/events`, with that carrier's key."""
    deadline, count = time.monotonic() + timeout, Counter()
    session = requests.Session()

    def attempt(batch: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
        response = post_batch(session, url, key, batch)
        if response.status_code >= 500 or response.status_code == 429:
            return None  # the service is down, or asks to slow down: again after a pause
        if response.status_code != 202:
            raise Unrecoverable(f"HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    for incubator_id, batch in carrier_batches(events):
        body = until_done(
            lambda b=batch, k=keys[incubator_id]: attempt(b, k),
            deadline,
            f"posting {incubator_id}'s events",
            count,
        )
        count["accepted"] += len(body["accepted"])
        count["duplicates"] += len(body["duplicates"])
    return count
