"""Where the integration tests find a broker and a MongoDB-protocol server.

1. `AMQP_URI` and `MONGODB_URI` from the environment (CI and `make test` set them);
2. otherwise containers started by testcontainers, when a Docker engine answers;
3. otherwise the run stops at once and says which command starts the local stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest

NO_SERVERS = (
    "No broker or database for the integration tests: AMQP_URI and MONGODB_URI are not set "
    "and no Docker engine answers. Start the local stack with `make stack-up` (or run the "
    "whole suite with `make test`), or export AMQP_URI and MONGODB_URI."
)


@dataclass(frozen=True)
class Servers:
    amqp_uri: str
    rabbit_api_uri: str
    mongodb_uri: str


def management_uri(amqp_uri: str) -> str:
    parts = urlparse(amqp_uri)
    user, password = parts.username or "guest", parts.password or "guest"
    return f"http://{user}:{password}@{parts.hostname or '127.0.0.1'}:15672"


def from_environment() -> Servers | None:
    amqp, mongo = os.environ.get("AMQP_URI"), os.environ.get("MONGODB_URI")
    if not (amqp and mongo):
        return None
    return Servers(amqp, os.environ.get("RABBIT_API_URI") or management_uri(amqp), mongo)


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def from_containers(stack: list) -> Servers:
    from testcontainers.mongodb import MongoDbContainer
    from testcontainers.rabbitmq import RabbitMqContainer

    rabbit = RabbitMqContainer("rabbitmq:3.13-management").with_exposed_ports(5672, 15672)
    mongo = MongoDbContainer("mongo:7")
    for container in (rabbit, mongo):
        container.start()
        stack.append(container)
    host = rabbit.get_container_host_ip()
    amqp = f"amqp://guest:guest@{host}:{rabbit.get_exposed_port(5672)}/"
    api = f"http://guest:guest@{host}:{rabbit.get_exposed_port(15672)}"
    return Servers(amqp, api, mongo.get_connection_url())


def resolve(stack: list) -> Servers:
    servers = from_environment()
    if servers is None and docker_answers():
        servers = from_containers(stack)
    if servers is None:
        pytest.exit(NO_SERVERS, returncode=4)
    return servers
