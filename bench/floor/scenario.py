"""Runs bench/floor/services.py as three `nameko run` processes on a stage's vhost and sends
them the pipeline's annual reports through the pipeline's own publisher.

The figure bounds the pipeline from above: the same publisher, broker, hops, prefetch and
worker counts, but no validation, no de-duplication, no database and no rules."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kombu import Connection

from bench.floor.services import INGRESS_QUEUE, RECEIVERS
from bench.harness import Stage, process_cpu_seconds, server_pids
from bench.pipeline import publish
from bench.workload import Workload
from shared.events import Subscription
from tests.support.waiting import wait_for

SERVICES = (*RECEIVERS, "registry")  # receivers first: their queues exist before anything flows
REPO = Path(__file__).resolve().parents[2]


def queue_names() -> list[str]:
    handlers = [
        Subscription("registry", "enterprise_updated", s, "on_enterprise_updated").queue_name
        for s in RECEIVERS
    ]
    return [INGRESS_QUEUE.name, *handlers]


def consuming(amqp_uri: str) -> bool:
    """Every queue declared and consumed (a passive declare is exact; management stats lag)."""
    with Connection(amqp_uri) as connection:
        for name in queue_names():
            try:
                channel = connection.channel()
                _, _, consumers = channel.queue_declare(name, passive=True)
                channel.close()
            except connection.channel_errors:
                return False
            if consumers == 0:
                return False
    return True


def running(processes: dict[str, subprocess.Popen[bytes]], probe: Any) -> Any:
    """`probe`, failing at once when a service has exited (its log says why)."""

    def checked() -> Any:
        for service, process in processes.items():
            if process.poll() is not None:
                raise AssertionError(f"floor {service} exited with {process.returncode}")
        return probe()

    return checked


def run(stage: Stage, events: int) -> dict[str, Any]:
    done = stage.workdir / f"{stage.name}-done"
    done.mkdir(exist_ok=True)
    reports = Workload(events // 4).annual_reports()
    env = {
        **os.environ,
        "FLOOR_EVENTS": str(len(reports)),
        "FLOOR_DONE_DIR": str(done),
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    nameko = str(Path(sys.executable).with_name("nameko"))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for service in SERVICES:
            target = f"bench.floor.services:{service.title()}"
            with open(stage.workdir / f"{stage.name}-{service}.log", "ab") as log:
                processes[service] = subprocess.Popen(
                    [nameko, "run", "--broker", stage.amqp_uri, target],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        wait_for(
            running(processes, lambda: consuming(stage.amqp_uri)),
            timeout=60,
            what="the floor's consumers",
        )
        pids = {s: p.pid for s, p in processes.items()} | server_pids() | {"bench": os.getpid()}
        cpu_before = {name: process_cpu_seconds(pid) for name, pid in pids.items()}
        started = time.time()
        publish(stage.amqp_uri, reports, content_type="application/json")
        wait_for(
            running(processes, lambda: all((done / s).exists() for s in RECEIVERS)),
            timeout=600,
            what="the floor's receivers to see every event",
        )
        finished = max(float((done / s).read_text()) for s in RECEIVERS)
        cpu_after = {name: process_cpu_seconds(pid) for name, pid in pids.items()}
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=30)
    seconds = finished - started
    return {
        "events": len(reports),
        "seconds": round(seconds, 2),
        "events_per_second": round(len(reports) / seconds, 1),
        "cpu_ms_per_event": {
            name: round(1000 * (cpu_after[name] - cpu_before[name]) / len(reports), 2)
            for name in cpu_after
        },
    }
