"""Services as real `nameko run` processes, configured only through the environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from shared.config import config_path
from tests.support.waiting import wait_for

OPTIONAL_SETTINGS = ("AUTH_KEY_CACHE_SECONDS",)  # passed on only when a test sets them


def service_target(service: str) -> str:
    """`services.registry.service:RegistryService`: the class, not the module, because the
    module also imports the OpsEndpoints mixin, which nameko would try to run too."""
    return f"services.{service}.service:{service.title()}Service"


class ServiceProcess:
    def __init__(self, service: str, config: dict[str, Any], log_path: Path):
        self.service = service
        self.base_url = f"http://{config['WEB_SERVER_ADDRESS']}"
        prefix = service.upper()
        self.env = {
            **os.environ,
            "AMQP_URI": config["AMQP_URI"],
            "MONGODB_URI": config["MONGODB_URI"],
            f"{prefix}_MONGODB_DATABASE": config["MONGODB_DATABASE"],
            f"{prefix}_HTTP_ADDRESS": config["WEB_SERVER_ADDRESS"],
            "INGRESS_RETRY_DELAYS_MS": str(config["INGRESS_RETRY_DELAYS_MS"]),
            "EVENT_RETRY_DELAYS_MS": str(config["EVENT_RETRY_DELAYS_MS"]),
            **{key: str(config[key]) for key in OPTIONAL_SETTINGS if key in config},
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ServiceProcess:
        command = [
            str(Path(sys.executable).with_name("nameko")),
            "run",
            "--config",
            str(config_path(self.service)),
            service_target(self.service),
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(
            self.ready,
            timeout=timeout,
            interval=0.3,
            what=f"{self.service} to be ready (log: {self.log_path})",
        )
        return self

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"{self.service} exited with {self.process.returncode}; "
                f"log:\n{self.log_path.read_text()[-3000:]}"
            )
        try:
            return requests.get(f"{self.base_url}/health/ready", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM, as Kubernetes does; SIGKILL only if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def freeze(self) -> None:
        """SIGSTOP: connections held open, nothing done, as a process that hangs."""
        assert self.process is not None and self.process.poll() is None, "not running"
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: on from where it was held."""
        assert self.process is not None, "never started"
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> int:
        """SIGKILL: no clean-up at all, as when a node dies or the kernel kills it."""
        assert self.process is not None and self.process.poll() is None, "not running"
        self.process.kill()
        return self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def all_at_once(
    action: Callable[[ServiceProcess], Any], processes: Iterable[ServiceProcess]
) -> None:
    """`action` on each of these services together: each waits seconds for its own process."""
    chosen = list(processes)
    if chosen:
        with ThreadPoolExecutor(len(chosen)) as pool:
            list(pool.map(action, chosen))


def stop_all(processes: Iterable[ServiceProcess]) -> None:
    all_at_once(ServiceProcess.stop, processes)
