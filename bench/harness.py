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
SERVICES = ("registry", "tiering", "incubators", "notifications", "auth", "portal")
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

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each service, the database server, the broker and this
        process (the publisher), from /proc: where an event's cost goes."""
        pids = {service: p.process.pid for service, p in self.running.items() if p.process}
        pids |= server_pids()
        pids["bench"] = os.getpid()
        return {name: process_cpu_seconds(pid) for name, pid in pids.items()}


SERVERS = {"database": ("ferretdb", "mongod"), "broker": ("beam.smp",)}


def server_pids() -> dict[str, int]:
    """The local database server's and broker's processes, found by their command lines."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        program = Path(command).name
        for role, names in SERVERS.items():
            if role not in found and any(program.startswith(name) for name in names):
                found[role] = int(entry.name)
    return found


def process_cpu_seconds(pid: int) -> float:
    """User plus system time of a process and all its threads (fields 14 and 15 of stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
