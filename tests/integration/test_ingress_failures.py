"""The shared ingress entrypoint's failure paths, with a small service of the test's own."""

import json
import threading

import pytest
from marshmallow import Schema, fields

from shared.batches import Batch
from shared.envelope import CloudEvent
from shared.ingress import EventRejected, ingress
from shared.ingress.topology import REJECTED_QUEUE
from tests.support.events import cloud_event
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

attempts: list[str] = []
gate = threading.Event()  # a "hold" event's batch waits for it: what follows queues up


class Instruction(Schema):
    action = fields.String(required=True)


class ProbeService:
    name = "probe"

    @ingress({"probe.instructed": Instruction})
    def on_instructions(self, batch: Batch[CloudEvent]) -> None:
        for event in batch:
            attempts.append(event.id)
            if event.data["action"] == "hold":
                gate.wait()
            with batch.each(event):
                if event.data["action"] == "fail":
                    raise RuntimeError("the database is down")
                if event.data["action"] == "refuse":
                    raise EventRejected({"data.action": ["refused by the domain"]})
        if any(event.data["action"] == "crash" for event in batch):
            raise RuntimeError("the whole batch failed")


@pytest.fixture
def probe(container_factory, service_config):
    attempts.clear()
    gate.set()
    container = container_factory(ProbeService, service_config)
    container.start()
    return container


def in_one_batch(probe, publisher, events):
    """Publish `events` while a batch is held, so that they are all delivered before the next
    batch begins: then they are that batch."""
    gate.clear()
    publisher.publish_events([cloud_event("probe.instructed", {"action": "hold"}, event_id="hold")])
    wait_for(lambda: "hold" in attempts, what="the held batch")
    publisher.publish_events(events)
    [entrypoint] = probe.entrypoints
    wait_for(lambda: len(entrypoint.buffer) == len(events), what="the events delivered")
    gate.set()


def test_failures_are_retried_with_delay_then_parked_with_the_error(probe, publisher, queues):
    event = cloud_event("probe.instructed", {"action": "fail"}, event_id="failing-1")
    publisher.publish_events([event])
    parked = wait_for(lambda: queues.drain("probe.ingress.dead"), what="the parked message")
    assert attempts == ["failing-1"] * 3  # first try + the two configured retries
    headers = parked[0].headers
    assert headers["x-retry-count"] == 2
    assert "RuntimeError: the database is down" in headers["x-last-error"]
    assert json.loads(parked[0].body)["id"] == "failing-1"


def test_a_domain_refusal_goes_to_the_rejected_queue(probe, publisher, queues):
    publisher.publish_events([cloud_event("probe.instructed", {"action": "refuse"})])
    rejected = wait_for(lambda: queues.drain(REJECTED_QUEUE), what="the rejected message")
    assert json.loads(rejected[0].headers["x-rejection-reason"]) == {
        "data.action": ["refused by the domain"]
    }
    assert rejected[0].headers["x-rejected-by"] == "probe"
    assert len(attempts) == 1


def test_a_processed_event_is_not_handled_again(probe, publisher, queues):
    event = cloud_event("probe.instructed", {"action": "ok"}, event_id="once")
    publisher.publish_events([event])
    wait_for(lambda: attempts == ["once"])
    publisher.publish_events(
        [event, cloud_event("probe.instructed", {"action": "ok"}, event_id="after")]
    )
    wait_for(lambda: "after" in attempts)
    assert attempts == ["once", "after"]


def test_in_one_batch_each_event_has_its_own_outcome(probe, publisher, queues):
    """One publish, so the events arrive together: the failing one is retried alone, the
    refused one rejected, the good one and its second copy processed once."""
    good = cloud_event("probe.instructed", {"action": "ok"}, event_id="good")
    in_one_batch(
        probe,
        publisher,
        [
            good,
            cloud_event("probe.instructed", {"action": "fail"}, event_id="bad"),
            cloud_event("probe.instructed", {"action": "refuse"}, event_id="refused"),
            good,
        ],
    )
    parked = wait_for(lambda: queues.drain("probe.ingress.dead"), what="the parked message")
    assert [json.loads(m.body)["id"] for m in parked] == ["bad"]
    rejected = wait_for(lambda: queues.drain(REJECTED_QUEUE), what="the rejected message")
    assert [json.loads(m.body)["id"] for m in rejected] == ["refused"]
    assert sorted(attempts) == ["bad"] * 3 + ["good", "hold", "refused"]


def test_a_batch_that_fails_as_a_whole_is_handled_event_by_event(probe, publisher, queues):
    """A handler that raises for its whole batch: each event is handled again alone, so only
    the one that fails alone is retried and parked; the others are processed once more."""
    in_one_batch(
        probe,
        publisher,
        [
            cloud_event("probe.instructed", {"action": "ok"}, event_id="fine"),
            cloud_event("probe.instructed", {"action": "crash"}, event_id="crash"),
        ],
    )
    parked = wait_for(lambda: queues.drain("probe.ingress.dead"), what="the parked message")
    assert [json.loads(m.body)["id"] for m in parked] == ["crash"]
    assert parked[0].headers["x-last-error"] == "RuntimeError: the whole batch failed"
    assert attempts.count("fine") == 2  # with the crash, then alone
    assert attempts.count("crash") == 2 + 2  # with fine, alone, then its two retries
