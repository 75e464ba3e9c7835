"""A Prometheus server of a test's own (Debian's binary, unpacked by
scripts/ensure-ops-tools.sh), on a free port, with its data in the test's folder."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.deploy.tools import tools
from tests.support.fixtures import free_port
from tests.support.waiting import wait_for


class PrometheusServer:
    def __init__(self, directory: Path, config: dict[str, Any]):
        self.directory = directory
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        self.config_file = directory / "prometheus.yml"
        self.config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> PrometheusServer:
        command = [
            str(tools()["PROMETHEUS"]),
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        with open(self.directory / "prometheus.log", "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.ready, timeout=timeout, interval=0.2, what="Prometheus to be ready")
        return self

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            log = (self.directory / "prometheus.log").read_text(errors="replace")
            raise AssertionError(f"Prometheus exited:\n{log[-3000:]}")
        try:
            return requests.get(f"{self.url}/-/ready", timeout=2).ok
        except requests.ConnectionError:
            return False

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts of the rules, as Prometheus' HTTP API gives them (pending or firing)."""
        answer = requests.get(f"{self.url}/api/v1/alerts", timeout=5)
        answer.raise_for_status()
        return answer.json()["data"]["alerts"]

    def state(self, alertname: str, **labels: str) -> str | None:
        """`firing`, `pending`, or None: the state of the alert with these labels."""
        for alert in self.alerts():
            found = alert["labels"]
            if found["alertname"] == alertname and all(
                found.get(k) == v for k, v in labels.items()
            ):
                return alert["state"]
        return None

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        answer.raise_for_status()
        return answer.json()["data"]["result"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
