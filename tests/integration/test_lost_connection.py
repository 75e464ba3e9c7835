"""A broker that goes away while a message is being handled (a restart) must not take the
service down with it: the broker takes the unsettled message back and delivers it again."""

import socket

import pytest
from kombu import Connection, Queue

from shared.batches import BatchQueueConsumer
from shared.publisher import Publisher
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

QUEUE = "lost.connection"


@pytest.mark.parametrize("settle", ["ack_message", "requeue_message"])
def test_settling_a_message_whose_connection_died_leaves_it_to_the_broker(
    rabbit_config, queues, settle
):
    uri = rabbit_config["AMQP_URI"]
    with Connection(uri) as connection:
        Queue(QUEUE, durable=True)(connection.default_channel).declare()
    publisher = Publisher(uri)
    publisher.publish(b"{}", QUEUE)
    publisher.close()
    consumer = Connection(uri)
    message = Queue(QUEUE, no_declare=True)(consumer.default_channel).get(no_ack=False)
    consumer.connection.transport.sock.shutdown(socket.SHUT_RDWR)  # the broker is gone

    getattr(BatchQueueConsumer(), settle)(message)  # would raise BrokenPipeError

    wait_for(lambda: queues.depth(QUEUE) == 1, what="the broker to take the message back")
    consumer.release()
