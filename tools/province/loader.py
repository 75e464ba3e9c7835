"""`tracker demo load`: a generated province through the public contract only.

Enterprise events are published to `tracker.ingress`; incubator events are posted to
`POST /v1/events` with each carrier's own key, in three phases (carriers and admissions, then
graduations and exits, then annual reports), each drained before the next so that a graduation
never overtakes its admission. A progress display shows events sent and events finished against
the total, the rate and the time left; at the end the loader waits until the pipeline has
drained and says how long it took.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlparse

import requests
import rich.console
import rich.progress
from prometheus_client.parser import text_string_to_metric_families

from shared.events import SUBSCRIPTIONS
from shared.publisher import CLOUDEVENTS_JSON, INGRESS_EXCHANGE, Publisher

BATCH = 100
PUBLISH_THREADS = 4
SKIPPED_QUEUES = (".dead", "tracker.ingress.rejected")
STATISTICS_LAG_SECONDS = 6.0


SERVICE_ORDER = ("registry", "incubators", "tiering", "notifications")  # as Endpoints lists them


@dataclass
class Endpoints:
    amqp_uri: str
    management_url: str  # http://user:pass@host:15672
    registry_url: str
    incubators_url: str
    tiering_url: str
    notifications_url: str

    @property
    def services(self) -> list[str]:
        return [self.registry_url, self.incubators_url, self.tiering_url, self.notifications_url]


@dataclass
class Tally:
    """What the services' metrics say of the events: ingress events settled (processed,
    duplicate, rejected or parked: anything but waiting for a retry), internal deliveries owed
    (each internal event published, once per queue subscribed to it) and those settled."""

    ingress: int = 0
    owed: int = 0
    internal: int = 0

    @property
    def finished(self) -> int:
        """Ingress events whose work is done, as far as can be told from counts: those settled
        at ingress, less the internal deliveries they caused that are still waiting somewhere
        downstream. It reaches the total only once the pipeline has drained."""
        return max(0, self.ingress - max(0, self.owed - self.internal))


# How many queues take each internal event, by (publishing service, type).
FAN_OUT = Counter((s.source, s.event_type) for s in SUBSCRIPTIONS)
INTERNAL_TYPES = {event_type for _, event_type in FAN_OUT}


def tally(urls: Iterable[str]) -> Tally:
    """The services' counts added up (a service that does not answer counts nothing yet)."""
    counted = Tally()
    for url in urls:
        try:
            count_into(counted, requests.get(f"{url}/metrics", timeout=5).text)
        except requests.RequestException:
            continue
    return counted


def count_into(counted: Tally, metrics: str) -> None:
    """Add one scrape's event counts to `counted`."""
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            labels = sample.labels
            if family.name == "tracker_events_dispatched":
                fan_out = FAN_OUT[labels.get("service", ""), labels.get("type", "")]
                counted.owed += int(sample.value) * fan_out
            elif family.name == "tracker_events_consumed" and labels.get("outcome") not in (
                "retried",
                None,
            ):
                # anything else is ingress: a contract type, or `other` (a type no one declares)
                if labels.get("type") in INTERNAL_TYPES:
                    counted.internal += int(sample.value)
                else:
                    counted.ingress += int(sample.value)


def processed_events(urls: Iterable[str]) -> int:
    """Ingress events the services have finished with (any outcome), from their metrics."""
    return tally(urls).ingress


def vhost_path(amqp_uri: str) -> str:
    return quote(urlparse(amqp_uri).path.lstrip("/") or "/", safe="")


def busy_queues(management_url: str, amqp_uri: str) -> dict[str, int]:
    """Queues of the vhost with messages ready or unacknowledged (parked, rejected aside)."""
    url = f"{management_url}/api/queues/{vhost_path(amqp_uri)}"
    queues = requests.get(url, timeout=10).json()
    return {
        q["name"]: q.get("messages", 0) + q.get("messages_unacknowledged", 0)
        for q in queues
        if not q["name"].endswith(SKIPPED_QUEUES)
        and q.get("messages", 0) + q.get("messages_unacknowledged", 0) > 0
    }


def wait_drained(
    management_url: str,
    amqp_uri: str,
    timeout: float,
    show: Callable[[], None],
    processed: Callable[[], int] = lambda: 0,
    quiet_for: float = STATISTICS_LAG_SECONDS,
) -> bool:
    """True once every queue has looked empty, and the services' `processed` count has stood
    still, for `quiet_for`, longer than the broker's statistics lag: RabbitMQ's management API
    samples queues every 5 s by default, so a queue can look empty while its messages are
    handled."""
    deadline, quiet_since, last = time.monotonic() + timeout, None, None
    while time.monotonic() < deadline:
        show()
        count = processed()
        now = time.monotonic()
        if busy_queues(management_url, amqp_uri) or count != last:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= quiet_for:
            return True
        last = count
        time.sleep(0.5)
    return False


class Progress:
    """Events sent and events finished (`Tally.finished`, plus the posts the API refused or
    reported as duplicates, which are finished when answered), against the total, with the
    rate and the time left estimated from the finished ones."""

    def __init__(self, endpoints: Endpoints, total: int):
        self.endpoints, self.total, self.sent, self.answered = endpoints, total, 0, 0
        self.started = time.monotonic()
        self.display = rich.progress.Progress(
            rich.progress.TextColumn("{task.description:>8}"),
            rich.progress.BarColumn(),
            rich.progress.MofNCompleteColumn(),
            rich.progress.TaskProgressColumn(),
            rich.progress.TextColumn("{task.fields[rate]}"),
            rich.progress.TimeElapsedColumn(),
            rich.progress.TimeRemainingColumn(),
            console=rich.console.Console(stderr=True),
        )
        self.sent_row = self.display.add_task("sent", total=total, rate="")
        self.finished_row = self.display.add_task("finished", total=total, rate="")
        self.display.start()

    def show(self) -> None:
        finished = min(self.total, tally(self.endpoints.services).finished + self.answered)
        self.display.update(self.sent_row, completed=self.sent)
        self.display.update(self.finished_row, completed=finished)
        speed = self.display.tasks[self.finished_row].speed
        rate = f"{speed:,.0f} events/s" if speed else ""
        self.display.update(self.finished_row, rate=rate)

    def close(self) -> None:
        self.show()
        self.display.stop()


def publish_enterprise_events(uri: str, events: list[bytes], progress: Progress) -> None:
    """Confirmed publishes from a few connections at once (each confirm is a round trip)."""

    def publish(chunk: list[bytes]) -> None:
        publisher = Publisher(uri)
        try:
            for body in chunk:
                publisher.publish(body, routing_key(body), INGRESS_EXCHANGE, CLOUDEVENTS_JSON)
                progress.sent += 1
        finally:
            publisher.close()

    chunks = [events[i::PUBLISH_THREADS] for i in range(PUBLISH_THREADS)]
    with ThreadPoolExecutor(PUBLISH_THREADS) as pool:
        futures = [pool.submit(publish, chunk) for chunk in chunks]
        while any(not f.done() for f in futures):
            progress.show()
            time.sleep(0.5)
        for future in futures:
            future.result()


def routing_key(body: bytes) -> str:
    marker = b'"type": "'
    start = body.find(marker)
    if start < 0:
        return "enterprise.unparsed"
    start += len(marker)
    return body[start : body.index(b'"', start)].decode()


def carrier_batches(events: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each carrier's events, in order, BATCH at a time: a carrier posts with its own key."""
    by_carrier: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_carrier.setdefault(event["data"]["incubator_id"], []).append(event)
    for incubator_id, mine in by_carrier.items():
        for start in range(0, len(mine), BATCH):
            yield incubator_id, mine[start : start + BATCH]


def post_batch(
    session: requests.Session, url: str, key: str, batch: list[dict[str, Any]]
) -> requests.Response:
    return session.post(
        f"{url}/v1/events",
        json=batch,
        timeout=60,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/cloudevents-batch+json",
        },
    )


def post_incubator_events(
    url: str, keys: dict[str, str], events: list[dict[str, Any]], progress: Progress
) -> dict[str, int]:
    outcome = {"accepted": 0, "duplicates": 0, "refused": 0}
    session = requests.Session()
    for incubator_id, batch in carrier_batches(events):
        response = post_batch(session, url, keys[incubator_id], batch)
        if response.status_code == 202:
            body = response.json()
            outcome["accepted"] += len(body["accepted"])
            outcome["duplicates"] += len(body["duplicates"])
            progress.answered += len(body["duplicates"])  # never published: finished
        else:
            outcome["refused"] += len(batch)
            progress.answered += len(batch)
            progress.display.console.print(
                f"{incubator_id}: HTTP {response.status_code} {response.text[:300]}",
                markup=False,
            )
        progress.sent += len(batch)
        progress.show()
    return outcome


def load(
    endpoints: Endpoints,
    enterprise_events: list[bytes],
    incubators: dict[str, Any],
    keys: dict[str, str],
    timeout: float = 3600,
) -> dict[str, Any]:
    phases = incubators["phases"]
    total = len(enterprise_events) + sum(len(p) for p in phases)
    progress = Progress(endpoints, total)
    publish_enterprise_events(endpoints.amqp_uri, enterprise_events, progress)
    posted = {}

    def processed() -> int:
        return processed_events(endpoints.services)

    for number, phase in enumerate(phases):
        if not wait_drained(
            endpoints.management_url, endpoints.amqp_uri, timeout, progress.show, processed
        ):
            raise TimeoutError(f"the pipeline did not drain within {timeout}s")
        posted[f"phase_{number}"] = post_incubator_events(
            endpoints.incubators_url, keys, phase, progress
        )
    drained = wait_drained(
        endpoints.management_url, endpoints.amqp_uri, timeout, progress.show, processed
    )
    progress.close()
    return {
        "events": total,
        "seconds": round(time.monotonic() - progress.started, 1),
        "drained": drained,
        "incubator_posts": posted,
    }
