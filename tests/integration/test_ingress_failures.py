"""The shared ingress entrypoint's failure paths, with a small service of the test's own."""

import json

import pytest
from marshmallow import Schema, fields

from shared.envelope import CloudEvent
from shared.ingress import EventRejected, ingress
from shared.ingress.topology import REJECTED_QUEUE
from tests.support.events import cloud_event
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

attempts: list[str] = []


class Instruction(Schema):
    action = fields.String(required=True)


class ProbeService:
    name = "probe"

    @ingress("probe.instructed", Instruction)
    def on_instruction(self, event: CloudEvent) -> None:
        attempts.append(event.id)
        if event.data["action"] == "fail":
            raise RuntimeError("the database is down")
        if event.data["action"] == "refuse":
            raise EventRejected({"data.action": ["refused by the domain"]})


@pytest.fixture
def probe(container_factory, service_config):
    attempts.clear()
    container = container_factory(ProbeService, service_config)
    container.start()
    return container


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
