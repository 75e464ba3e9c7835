"""A RabbitMQ node and a FerretDB server of a test's own, on free ports, in its own folder.

A fault-injection test stops and restarts its servers; the shared ones (scripts/stack.sh) belong
to everyone running tests, so it never touches them. Both servers are started from what
`scripts/stack.sh install` installs (RabbitMQ from Debian's packages, the patched FerretDB build)
and are stopped only by the PIDs started here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from contextlib import suppress
from pathlib import Path

import requests
from pymongo import MongoClient

from tests.support.fixtures import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "scripts" / "stack.sh"
# Debian's /usr/sbin/rabbitmq-server switches to the rabbitmq user when run as root, and with it
# to the system node's folders and cookie; the script it wraps runs as the caller, with ours.
DEBIAN_RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
STATISTICS_MS = 500  # how often the management API samples queue depths here
USER, PASSWORD = "guest", "guest"


def installed() -> dict[str, str]:
    """Installs what is missing (idempotent) and says where: `scripts/stack.sh install`."""
    done = subprocess.run([str(STACK), "install"], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/stack.sh install failed:\n{done.stderr[-3000:]}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def rabbitmq_server() -> str:
    if DEBIAN_RABBITMQ_SERVER.exists():
        return str(DEBIAN_RABBITMQ_SERVER)
    found = shutil.which("rabbitmq-server")
    if found is None:
        raise RuntimeError("rabbitmq-server is not installed: run scripts/stack.sh install")
    return found


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.1)
    return False


class PrivateRabbitMQ:
    """One RabbitMQ node (management plugin on) whose name, ports and folders are its own."""

    def __init__(self, directory: Path, prometheus: bool = False):
        """`prometheus`: also serve the Prometheus plugin's metrics (`prometheus_address`)."""
        self.directory = directory
        self.node = f"chaos-{uuid.uuid4().hex[:8]}@localhost"
        self.port, self.management_port, dist_port = free_port(), free_port(), free_port()
        self.prometheus_port = free_port() if prometheus else None
        directory.mkdir(parents=True, exist_ok=True)
        plugins = ["rabbitmq_management", *(["rabbitmq_prometheus"] if prometheus else [])]
        metrics = (
            f"prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = {self.prometheus_port}\n"
            if prometheus
            else ""
        )
        (directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "management.tcp.ip = 127.0.0.1\n"
            f"management.tcp.port = {self.management_port}\n"
            "loopback_users.guest = true\n"
            f"collect_statistics_interval = {STATISTICS_MS}\n"  # fresh queue depths, not 5 s old
            + metrics
        )
        (directory / "enabled_plugins").write_text(f"[{','.join(plugins)}].\n")
        (directory / "rabbitmq-env.conf").write_text("")
        self.pid_file = directory / "beam.pid"
        self.env = {
            **os.environ,
            "HOME": str(directory),  # the Erlang cookie is made here
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(directory / "log"),
            "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(directory / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(directory / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.beam_pid: int | None = None

    @property
    def prometheus_address(self) -> str:
        assert self.prometheus_port is not None, "started without the Prometheus plugin"
        return f"127.0.0.1:{self.prometheus_port}"

    @property
    def management_url(self) -> str:
        return f"http://{USER}:{PASSWORD}@127.0.0.1:{self.management_port}"

    def amqp_uri(self, vhost: str = "/") -> str:
        return f"amqp://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{requests.utils.quote(vhost, '')}"

    def start(self, timeout: float = 120) -> PrivateRabbitMQ:
        with open(self.directory / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [rabbitmq_server()],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.directory,
            )
        wait_for(
            self.answers,
            timeout=timeout,
            interval=0.3,
            what=f"RabbitMQ node {self.node} (log: {self.directory / 'log'})",
        )
        self.beam_pid = int(self.pid_file.read_text().strip())
        return self

    def answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"RabbitMQ node {self.node} exited; see {self.directory}/log")
        try:
            return requests.get(f"{self.management_url}/api/overview", timeout=3).ok
        except requests.RequestException:
            return False

    def stop(self, timeout: float = 60) -> None:
        """A clean shutdown (SIGTERM), as a restart by an operator or an orchestrator does."""
        if self.process is None:
            return
        if self.beam_pid is not None:
            with suppress(ProcessLookupError):
                os.kill(self.beam_pid, signal.SIGTERM)
            if not wait_gone(self.beam_pid, timeout):
                os.kill(self.beam_pid, signal.SIGKILL)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = self.beam_pid = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def add_vhost(self, vhost: str) -> str:
        """A vhost with full rights for the user; returns its AMQP URI."""
        name = requests.utils.quote(vhost, "")
        requests.put(f"{self.management_url}/api/vhosts/{name}", timeout=10).raise_for_status()
        requests.put(
            f"{self.management_url}/api/permissions/{name}/{USER}",
            timeout=10,
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
        return self.amqp_uri(vhost)


class PrivateFerretDB:
    """The patched FerretDB (SQLite backend, the SQLite settings of scripts/stack.sh) on a free
    port with its own data folder."""

    def __init__(self, binary: str, directory: Path, pragmas: str = ""):
        self.binary, self.directory, self.pragmas = binary, directory, pragmas
        self.port = free_port()
        (directory / "data").mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def built(cls, directory: Path) -> PrivateFerretDB:
        """One from the build and settings of `scripts/stack.sh install`."""
        where = installed()
        return cls(where["FERRETDB_BIN"], directory, where["FERRETDB_PRAGMAS"])

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60) -> PrivateFerretDB:
        command = [
            self.binary,
            "--handler=sqlite",
            f"--sqlite-url=file:{self.directory}/data/?{self.pragmas}",
            f"--state-dir={self.directory}",
            f"--listen-addr=127.0.0.1:{self.port}",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ]
        with open(self.directory / "ferretdb.log", "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for(
            self.answers, timeout=timeout, interval=0.2, what=f"FerretDB on 127.0.0.1:{self.port}"
        )
        return self

    def answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"FerretDB exited; see {self.directory / 'ferretdb.log'}")
        try:
            with MongoClient(self.uri, serverSelectionTimeoutMS=1000) as client:
                client.admin.command("ping")
            return True
        except Exception:
            return False

    def freeze(self) -> None:
        """SIGSTOP: a hung server (connections accepted by the kernel, never answered)."""
        assert self.process is not None and self.process.poll() is None, "not running"
        self.process.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if getattr(self, "frozen", False) and self.process is not None:
            self.process.send_signal(signal.SIGCONT)
        self.frozen = False

    def stop(self, timeout: float = 30) -> None:
        if self.process is None:
            return
        self.thaw()
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None
