"""The `tracker` command's RPC reply queues are declared classic, so that a broker whose
default queue type is quorum (Kubernetes) does not replicate them; nameko's own are not."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.tiering.service import TieringService
from tools.cli.rpc import cluster_proxy

pytestmark = pytest.mark.integration


def reply_queue_types(rabbit_manager, vhost: str) -> list:
    return [
        queue["arguments"].get("x-queue-type")
        for queue in rabbit_manager.get_queues(vhost)
        if queue["name"].startswith("rpc.reply-standalone_rpc_proxy-")
    ]


def test_the_commands_reply_queue_is_classic(
    container_factory, service_config, rabbit_config, rabbit_manager
):
    container_factory(TieringService, service_config).start()
    with cluster_proxy(service_config, timeout=30) as cluster:
        assert "loaded" in cluster.tiering.list_rulesets()
    assert reply_queue_types(rabbit_manager, rabbit_config["vhost"]) == ["classic"]

    with ClusterRpcProxy(service_config, timeout=30) as cluster:  # nameko's: no type asked
        cluster.tiering.list_rulesets()
    types = reply_queue_types(rabbit_manager, rabbit_config["vhost"])
    assert len(types) == 2 and set(types) == {"classic", None}
