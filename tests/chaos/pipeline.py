"""The four services as `nameko run` processes on the private servers, a webhook receiver that
every unit's alerts go to, and a province sent through them in steps, each step with the fault
(if any) injected while its events are being sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from pymongo import MongoClient

from services.auth import handlers as auth
from services.auth.storage import ApiKeys
from services.notifications.signing import new_secret
from services.notifications.storage import Notifications
from services.notifications.subscriptions import make_subscription
from shared.domain.units import PROVINCE, UNITS
from tests.chaos import sending
from tests.support.fixtures import free_port
from tests.support.private_stack import STATISTICS_MS, PrivateFerretDB, PrivateRabbitMQ
from tests.support.processes import ServiceProcess, all_at_once, stop_all
from tests.support.receivers import WebhookReceiver, serve
from tests.support.waiting import wait_for
from tools.province.loader import wait_drained

SERVICES = ("auth", "registry", "tiering", "incubators", "notifications")
WORK_WAIT_SECONDS = 30


@dataclass(frozen=True)
class Fault:
    """`inject` breaks something and repairs it (a kill and a restart, a stop and a start);
    `held` is the service held (SIGSTOP) while the step's events are sent, `work` how much
    waits for it: once some does, it goes on and the fault hits it at work."""

    name: str
    inject: Callable[[Pipeline], None]
    held: str
    work: Callable[[Pipeline], int]


@dataclass
class Step:
    """Events to send (`publish` raw enterprise events, or `post` incubator events), then,
    when `drain`, wait until the pipeline is idle before the next step."""

    name: str
    publish: list[bytes] = field(default_factory=list)
    post: list[dict[str, Any]] = field(default_factory=list)
    drain: bool = False


class Pipeline:
    def __init__(
        self,
        name: str,
        rabbit: PrivateRabbitMQ,
        ferret: PrivateFerretDB,
        directory: Path,
        settings: dict[str, str],
        timeout: float,
    ):
        self.name, self.rabbit, self.ferret = name, rabbit, ferret
        self.directory, self.timeout = directory, timeout
        self.amqp_uri = rabbit.add_vhost(name)
        self.configs = {
            service: {
                "AMQP_URI": self.amqp_uri,
                "MONGODB_URI": ferret.uri,
                "MONGODB_DATABASE": f"{name}_{service}",
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
                **settings,
            }
            for service in SERVICES
        }
        self.mongo = MongoClient(ferret.uri, tz_aware=True, serverSelectionTimeoutMS=30_000)
        self.receiver = WebhookReceiver()
        self.receiver_server, self.receiver_url = serve(self.receiver)
        self.services: dict[str, ServiceProcess] = {}
        self.faults: list[dict[str, Any]] = []
        self.seconds: dict[str, float] = {}  # per step, its drain included
        self.sent: dict[str, int] = {
            "published": 0,
            "posted": 0,
            "republished": 0,
            "reposted": 0,
            "duplicates_answered": 0,
        }

    def db(self, service: str) -> Any:
        return self.mongo[self.configs[service]["MONGODB_DATABASE"]]

    def url(self, service: str) -> str:
        return self.services[service].base_url

    # life cycle -----------------------------------------------------------------------------
    def start(self, carriers: list[dict[str, Any]]) -> Pipeline:
        self.services = {
            service: ServiceProcess(
                service, self.configs[service], self.directory / f"{self.name}-{service}.log"
            )
            for service in SERVICES
        }
        all_at_once(ServiceProcess.start, self.services.values())
        self.subscribe_every_unit()
        keys = ApiKeys(self.db("auth"))
        self.incubator_keys = {
            c["incubator_id"]: auth.issue(
                keys, {"kind": "incubator", "subject": c["incubator_id"]}
            )["key"]
            for c in carriers
        }
        self.admin_key = auth.issue(keys, {"kind": "admin", "subject": "admin"})["key"]
        return self

    def subscribe_every_unit(self) -> None:
        store = Notifications(self.db("notifications"))
        for unit in [*UNITS, PROVINCE]:
            store.add_subscription(
                make_subscription(
                    {
                        "unit": unit,
                        "channel": "webhook",
                        "url": self.receiver_url,
                        "secret": new_secret(),
                    }
                )
            )

    def stop(self) -> None:
        stop_all(self.services.values())
        self.receiver_server.shutdown()
        self.mongo.close()

    # sending --------------------------------------------------------------------------------
    def run(self, steps: list[Step], faults: dict[str, Fault]) -> None:
        """Each step's events sent while its fault (by step name) is injected, if it has one."""
        for step in steps:
            started = time.monotonic()
            fault = faults.get(step.name)
            if fault is not None:
                self.services[fault.held].freeze()
            with ThreadPoolExecutor(1) as pool:
                sent = pool.submit(self.send, step)
                if fault is not None:
                    self.inject(fault)
                sent.result()
            if step.drain:
                self.wait_idle()
            self.seconds[step.name] = round(time.monotonic() - started, 1)

    def send(self, step: Step) -> None:
        if step.publish:
            count = sending.publish(self.amqp_uri, step.publish, self.timeout)
            self.sent["published"] += count["published"]
            self.sent["republished"] += count["retries"]
        if step.post:
            count = sending.post(
                self.url("incubators"), self.incubator_keys, step.post, self.timeout
            )
            self.sent["posted"] += len(step.post)
            self.sent["reposted"] += count["retries"]
            self.sent["duplicates_answered"] += count["duplicates"]

    def inject(self, fault: Fault) -> None:
        """The fault once work waits for the held service and it goes on, then the wait until
        every service is ready."""
        try:
            deadline = time.monotonic() + WORK_WAIT_SECONDS
            while (work := fault.work(self)) == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            self.services[fault.held].thaw()
        started = time.monotonic()
        fault.inject(self)
        recovered = time.monotonic()
        for process in self.services.values():
            wait_for(process.ready, timeout=120, interval=0.3, what=f"{process.service} ready")
        self.faults.append(
            {
                "fault": fault.name,
                "target_work_at_injection": work,
                "seconds": round(recovered - started, 1),
                "all_ready_after_seconds": round(time.monotonic() - started, 1),
            }
        )

    def waiting(self, queue: str) -> int:
        """Messages in a queue, ready or delivered to a consumer and not yet acknowledged (as
        the management API last sampled them, every STATISTICS_MS)."""
        url = f"{self.rabbit.management_url}/api/queues/{quote(self.name, '')}/{quote(queue, '')}"
        answer = requests.get(url, timeout=10)
        return int(answer.json().get("messages", 0)) if answer.status_code == 200 else 0

    def wait_idle(self) -> None:
        """Every queue empty (parked and rejected aside) and no delivery pending."""
        quiet = 4 * STATISTICS_MS / 1000  # four samples of the private broker's queue depths
        management, uri, timeout = self.rabbit.management_url, self.amqp_uri, self.timeout
        if not wait_drained(management, uri, timeout, lambda: None, quiet_for=quiet):
            raise AssertionError(f"{self.name}: the pipeline did not drain in {self.timeout}s")
        deliveries = self.db("notifications").deliveries
        wait_for(
            lambda: deliveries.count_documents({"state": "pending"}) == 0,
            timeout=self.timeout,
            interval=0.5,
            what="every delivery attempted",
        )
