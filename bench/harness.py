"""What every scenario needs: a vhost and databases of its own, the services as real
`nameko run` processes, and their peak memory."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse, urlunparse

import requests
from pymongo import MongoClient
from pymongo.database import Database

from tests.support.processes import ServiceProcess

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
MANAGEMENT_URL = os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672")
SERVICES = ("registry", "tiering", "incubators", "notifications")
FIRST_PORT = 18100


@dataclass
class Stage:
    """One scenario's own vhost and databases, and the services it started."""

    name: str
    workdir: Path
    vhost: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")
    running: dict[str, ServiceProcess] = field(default_factory=dict)

    @property
    def amqp_uri(self) -> str:
        parts = urlparse(AMQP_URI)
        return urlunparse(parts._replace(path="/" + quote(self.vhost, safe="")))

    def database_name(self, service: str) -> str:
        return f"{self.vhost.replace('-', '_')}_{service}"

    def config(self, service: str) -> dict[str, Any]:
        return {
            "AMQP_URI": self.amqp_uri,
            "MONGODB_URI": MONGODB_URI,
            "MONGODB_DATABASE": self.database_name(service),
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{FIRST_PORT + SERVICES.index(service)}",
            "INGRESS_RETRY_DELAYS_MS": "1000,5000",
            "EVENT_RETRY_DELAYS_MS": "1000,5000",
        }

    def start(self, *services: str) -> None:
        for service in services:
            process = ServiceProcess(
                service, self.config(service), self.workdir / f"{self.name}-{service}.log"
            )
            self.running[service] = process.start()

    def url(self, service: str) -> str:
        return self.running[service].base_url

    def db(self, client: MongoClient, service: str) -> Database:
        return client[self.database_name(service)]

    def peak_rss_mb(self) -> dict[str, float]:
        """Each service's peak resident memory so far (the kernel's VmHWM), in MB."""
        peaks = {}
        for service, process in self.running.items():
            assert process.process is not None
            status = Path(f"/proc/{process.process.pid}/status").read_text()
            kib = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")
            )
            peaks[service] = round(kib / 1024, 1)
        return peaks


def management(method: str, path: str, **kwargs: Any) -> requests.Response:
    response = requests.request(method, f"{MANAGEMENT_URL}/api/{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response


@contextmanager
def stage(name: str, workdir: Path) -> Iterator[Stage]:
    """A fresh vhost and databases, removed afterwards with the services stopped."""
    current = Stage(name, workdir)
    user = urlparse(AMQP_URI).username or "guest"
    management("PUT", f"vhosts/{current.vhost}")
    management(
        "PUT",
        f"permissions/{current.vhost}/{user}",
        json={"configure": ".*", "write": ".*", "read": ".*"},
    )
    try:
        yield current
    finally:
        for process in current.running.values():
            process.stop()
        management("DELETE", f"vhosts/{current.vhost}")
        with MongoClient(MONGODB_URI) as client:
            for service in SERVICES:
                client.drop_database(current.database_name(service))
