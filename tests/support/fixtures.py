"""Fixtures for integration and e2e tests: real broker, real MongoDB-protocol server."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Queue
from pymongo import MongoClient

from shared.publisher import Publisher
from tests.support.servers import Servers, resolve


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    started: list = []
    try:
        yield resolve(started)
    finally:
        for container in started:
            container.stop()


@pytest.fixture(scope="session")
def rabbit_manager(servers: Servers, request: pytest.FixtureRequest) -> Any:
    """Overrides nameko's fixture so its per-test vhosts use the servers found above."""
    from nameko.testing import rabbit

    request.config.option.RABBIT_AMQP_URI = servers.amqp_uri
    return rabbit.Client(servers.rabbit_api_uri)


@pytest.fixture
def mongo_database(servers: Servers) -> Iterator[str]:
    """A database name of the test's own; it and any `<name>_<suffix>` are dropped after."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    with MongoClient(servers.mongodb_uri, serverSelectionTimeoutMS=5000) as client:
        for existing in client.list_database_names():
            if existing == name or existing.startswith(f"{name}_"):
                client.drop_database(existing)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def service_config(
    rabbit_config: dict[str, Any], servers: Servers, mongo_database: str
) -> dict[str, Any]:
    """A nameko config for one service under test: own vhost, own database, free port."""
    return {
        "AMQP_URI": rabbit_config["AMQP_URI"],
        "MONGODB_URI": servers.mongodb_uri,
        "MONGODB_DATABASE": mongo_database,
        "MONGODB_TIMEOUT_MS": 3000,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "INGRESS_RETRY_DELAYS_MS": "100,200",
        "EVENT_RETRY_DELAYS_MS": "100,200",
        "max_workers": 10,
        "serializer": "json",
    }


@pytest.fixture
def base_url(service_config: dict[str, Any]) -> str:
    return f"http://{service_config['WEB_SERVER_ADDRESS']}"


@pytest.fixture
def publisher(rabbit_config: dict[str, Any]) -> Iterator[Publisher]:
    pub = Publisher(rabbit_config["AMQP_URI"])
    yield pub
    pub.close()


class QueueReader:
    """Reads messages from a named queue of the test's vhost (declaring it if needed)."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri

    def drain(self, queue: str) -> list[Any]:
        """Take (and ack) every message now in the queue."""
        messages = []
        with Connection(self.amqp_uri) as conn:
            bound = Queue(queue, no_declare=True)(conn.default_channel)
            while (message := bound.get(no_ack=False)) is not None:
                message.ack()
                messages.append(message)
        return messages

    def depth(self, queue: str) -> int:
        with Connection(self.amqp_uri) as conn:
            return (
                Queue(queue, durable=True)(conn.default_channel)
                .queue_declare(passive=True)
                .message_count
            )


@pytest.fixture
def queues(rabbit_config: dict[str, Any]) -> QueueReader:
    return QueueReader(rabbit_config["AMQP_URI"])


@pytest.fixture
def run_service(service_config: dict[str, Any], tmp_path: Any) -> Iterator[Any]:
    """Starts services as `nameko run` processes sharing the test's vhost and database."""
    from tests.support.processes import ServiceProcess, stop_all

    started: list[ServiceProcess] = []

    def run(service: str, config: dict[str, Any] | None = None) -> ServiceProcess:
        process = ServiceProcess(service, config or service_config, tmp_path / f"{service}.log")
        started.append(process.start())
        return process

    yield run
    stop_all(started)


@pytest.fixture
def config_for(service_config: dict[str, Any]) -> Any:
    """A config for one more service beside the first: own database, own port."""

    def make(service: str) -> dict[str, Any]:
        return {
            **service_config,
            "MONGODB_DATABASE": f"{service_config['MONGODB_DATABASE']}_{service}",
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        }

    return make


@pytest.fixture
def event_collector(rabbit_config: dict[str, Any]) -> Any:
    """`collect = event_collector("tiering", "tier_changed")` binds a queue to that service's
    nameko events now; `collect()` drains what arrived since."""
    import json

    from kombu import Exchange

    def bind(source: str, event_type: str) -> Any:
        queue = Queue(
            f"test.{source}.{event_type}.{uuid.uuid4().hex[:6]}",
            Exchange(f"{source}.events", type="topic", durable=True),
            routing_key=event_type,
            durable=False,
        )
        with Connection(rabbit_config["AMQP_URI"]) as conn:
            queue(conn.default_channel).declare()

        def collect() -> list[Any]:
            with Connection(rabbit_config["AMQP_URI"]) as conn:
                bound = queue(conn.default_channel)
                out = []
                while (message := bound.get(no_ack=True)) is not None:
                    out.append(json.loads(message.body))
                return out

        return collect

    return bind
