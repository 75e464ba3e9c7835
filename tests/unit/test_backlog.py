"""When a message entered its queue, and the age of the oldest one a consumer holds."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from amqp.basic_message import Message as Frame
from kombu.transport.pyamqp import Message
from prometheus_client import REGISTRY

from shared.backlog import Backlog, entered_queue_at


def message(properties: dict | None = None, headers: dict | None = None) -> Message:
    """A message as kombu hands it to a consumer (py-amqp's transport)."""
    frame = Frame(b"{}", application_headers=headers or {}, **(properties or {}))
    frame.delivery_info = {"delivery_tag": 1}
    return Message(frame)


def naive_utc(epoch: float) -> datetime:
    """How py-amqp decodes AMQP timestamps."""
    return datetime.fromtimestamp(epoch, tz=UTC).replace(tzinfo=None)


def test_the_latest_stamp_is_when_it_entered_its_queue():
    published, expired = 1_700_000_000, 1_700_000_030
    assert entered_queue_at({"timestamp": naive_utc(published)}, {}) == published
    assert entered_queue_at({}, {"timestamp_in_ms": published * 1000 + 500}) == published + 0.5
    # back from a delay queue: dead-lettered after it was published
    back = {"x-death": [{"time": naive_utc(expired), "queue": "q.retry.30000ms"}]}
    assert entered_queue_at({"timestamp": naive_utc(published)}, back) == expired
    # republished after an older death (the copied header of a replay): the publish counts
    replayed = {"x-death": [{"time": naive_utc(published - 600)}]}
    assert entered_queue_at({"timestamp": published}, replayed) == published
    assert entered_queue_at({}, {}) is None
    assert entered_queue_at({"timestamp": True}, {"timestamp_in_ms": "soon"}) is None


def test_the_oldest_held_message_ages_and_settling_observes_its_wait():
    backlog = Backlog()
    backlog.watch("registry", "registry.ingress")
    assert backlog.ages() == {("registry", "registry.ingress"): 0.0}  # exported from start

    now = time.time()
    old, young = message({"timestamp": int(now - 120)}), message({"timestamp": int(now)})
    backlog.received("registry", "registry.ingress", old)
    backlog.received("registry", "registry.ingress", young)
    assert 119 <= backlog.ages()[("registry", "registry.ingress")] <= 125

    def observed() -> float:
        labels = {"service": "registry", "queue": "registry.ingress"}
        return REGISTRY.get_sample_value("tracker_event_latency_seconds_count", labels) or 0.0

    before = observed()
    backlog.released(old)  # back to its queue: not an outcome
    assert observed() == before
    assert backlog.ages()[("registry", "registry.ingress")] < 5
    backlog.settled(young)
    assert observed() == before + 1
    assert backlog.ages()[("registry", "registry.ingress")] == 0.0


def test_a_message_never_stamped_counts_from_its_delivery():
    backlog = Backlog()
    unstamped = message()
    backlog.received("tiering", "evt-q", unstamped)
    assert backlog.ages()[("tiering", "evt-q")] < 1
