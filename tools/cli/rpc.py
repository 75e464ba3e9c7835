"""RPC calls from the `tracker` command, with a reply queue that stays a classic queue.

nameko declares each caller's reply queue durable and not exclusive (it expires 5 minutes
after its last use), so a broker whose default queue type is quorum (the Kubernetes
RabbitmqCluster: `default_queue_type = quorum`) would make every command's reply queue a
replicated Raft group. A reply queue needs no replication: its caller waits on it and is gone
with it. So the command asks for a classic queue explicitly (`x-queue-type`, which RabbitMQ
honours on every version since 3.8).
"""

from __future__ import annotations

from typing import Any

from nameko.standalone.rpc import (
    ClusterRpcProxy,
    PollingQueueConsumer,
    SingleThreadedReplyListener,
)


class ClassicQueueConsumer(PollingQueueConsumer):
    """Declares the reply queue it is given as a classic queue."""

    def register_provider(self, provider: Any) -> None:
        provider.queue.queue_arguments["x-queue-type"] = "classic"
        super().register_provider(provider)


class ClassicReplyListener(SingleThreadedReplyListener):
    def __init__(self, timeout: float | None = None):
        super().__init__(timeout=timeout)
        self.queue_consumer = ClassicQueueConsumer(timeout=timeout)


def cluster_proxy(config: dict[str, Any], timeout: float | None = None) -> ClusterRpcProxy:
    """`with cluster_proxy({"AMQP_URI": ...}, timeout=30) as cluster: cluster.tiering....`"""
    return ClusterRpcProxy(config, timeout=timeout, reply_listener_cls=ClassicReplyListener)
