"""Confirmed publishing against the real broker: confirmed means some queue holds it."""

import pytest
from kombu import Connection, Queue

from shared.publisher import CLOUDEVENTS_JSON, INGRESS_EXCHANGE, Publisher, Unroutable


def test_a_message_no_queue_takes_fails_and_later_ones_are_still_confirmed(rabbit_config, queues):
    uri = rabbit_config["AMQP_URI"]
    bound = Queue("probe.bound", exchange=INGRESS_EXCHANGE, routing_key="enterprise.#")
    with Connection(uri) as connection:
        bound(connection.default_channel).declare()
    publisher = Publisher(uri, pool_size=1)  # one channel: the failure and what follows share it
    try:
        with pytest.raises(Unroutable, match=r"NO_ROUTE.*'enterprise_registered'"):
            publisher.publish(b"typo", "enterprise_registered", INGRESS_EXCHANGE, CLOUDEVENTS_JSON)
        for n in range(3):
            publisher.publish(str(n), "enterprise.registered", INGRESS_EXCHANGE, CLOUDEVENTS_JSON)
    finally:
        publisher.close()
    assert [m.body for m in queues.drain("probe.bound")] == [b"0", b"1", b"2"]
