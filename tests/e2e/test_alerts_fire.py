"""The project's alert rules fire on this machine when the faults they are about happen, and
resolve when they end.

Prometheus (Debian's) scrapes registry and tiering, running as real processes, and a RabbitMQ
node of the test's own (its Prometheus plugin), with the project's rules rendered 60 times
faster (`scripts.monitoring.render.groups(Timescale(60))`: `for: 5m` becomes 5 s, a 300 s
threshold 5 s; the production files stay as they are). The faults are real: a consumer stops;
the database hangs (SIGSTOP) while tiering's workers wait on it with events in hand; then it
stops, so events are parked in a dead queue and API calls fail. Each matching alert is seen
firing through Prometheus' HTTP API, then resolved. Before that, 50 readiness probes are shown
to open no broker connection.
"""

from __future__ import annotations

import eventlet
import pytest
import requests
from kombu import Connection
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from scripts.monitoring.local import local_config
from scripts.monitoring.render import groups, write_rules
from scripts.monitoring.timescale import Timescale
from shared.events import SUBSCRIPTIONS
from shared.publisher import Publisher
from tests.support.events import cloud_event, jilin_uscc, registration
from tests.support.fixtures import free_port
from tests.support.private_stack import PrivateRabbitMQ
from tests.support.processes import ServiceProcess, stop_all
from tests.support.prometheus import PrometheusServer
from tests.support.snapshots import firm
from tests.support.waiting import wait_for
from tools.cli.ingress import replay_parked

pytestmark = pytest.mark.e2e
TIMESCALE = Timescale(60)
TIERING_QUEUE = next(s.queue_name for s in SUBSCRIPTIONS if s.service == "tiering")
SETTINGS = {  # what the services read from the environment, as fast as the rules
    "HEALTH_CHECK_INTERVAL_SECONDS": "1",
    "QUEUE_GAUGES_MAX_AGE_SECONDS": "1",
    "GAUGES_MAX_AGE_SECONDS": "1",
    "MONGODB_TIMEOUT_MS": "1000",
}
CHANGE_TIMEOUT = 60  # for an alert to fire or resolve (seconds)


@pytest.fixture
def broker(tmp_path):
    node = PrivateRabbitMQ(tmp_path / "rabbitmq", prometheus=True).start()
    yield node
    node.stop()


@pytest.fixture
def services(broker, database_server, tmp_path, monkeypatch):
    for key, value in SETTINGS.items():
        monkeypatch.setenv(key, value)
    amqp = broker.add_vhost("tracker")
    started = {}
    for name in ("auth", "registry", "tiering"):  # auth: every read API checks keys with it
        config = {
            "AMQP_URI": amqp,
            "MONGODB_URI": database_server.uri,
            "MONGODB_DATABASE": f"alerts_{name}",
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
            "INGRESS_RETRY_DELAYS_MS": "500,3000",
            "EVENT_RETRY_DELAYS_MS": "500,3000",
        }
        process = ServiceProcess(name, config, tmp_path / f"{name}.log")
        if name == "tiering":  # its workers wait on a hung database instead of giving up
            process.env["MONGODB_TIMEOUT_MS"] = "120000"
        started[name] = process.start()
    yield amqp, started
    stop_all(started.values())


def connections_created(broker: PrivateRabbitMQ) -> int:
    overview = requests.get(f"{broker.management_url}/api/overview", timeout=5).json()
    return int(overview.get("churn_rates", {}).get("connection_created", 0))


def fence(broker: PrivateRabbitMQ) -> int:
    """Opens one connection and waits until the broker counts it: by then it has counted every
    connection opened before it. Returns the count."""
    before = connections_created(broker)
    with Connection(broker.amqp_uri()) as connection:
        connection.connect()
    return wait_for(
        lambda: (count := connections_created(broker)) > before and count,
        what="the broker to count the fence connection",
    )


def assert_readiness_opens_no_connection(broker, service: ServiceProcess) -> None:
    before = fence(broker)
    for _ in range(50):
        assert requests.get(f"{service.base_url}/health/ready", timeout=2).status_code == 200
    assert fence(broker) == before + 1  # the fence itself, nothing for the 50 probes


def changes(prometheus: PrometheusServer, alert: str, state: str | None, **labels: str) -> None:
    wait_for(
        lambda: prometheus.state(alert, **labels) == state,
        timeout=CHANGE_TIMEOUT,
        interval=0.5,
        what=f"{alert} {labels} to be {state or 'resolved'}",
    )


def publish_registrations(amqp: str, count: int) -> list[str]:
    codes = [jilin_uscc() for _ in range(count)]
    publisher = Publisher(amqp)
    try:
        publisher.publish_events(
            [cloud_event("enterprise.registered", registration(c)) for c in codes]
        )
    finally:
        publisher.close()
    return codes


def dead_letters(amqp: str) -> int:
    with Connection(amqp) as connection:
        declared = connection.default_channel.queue_declare("registry.ingress.dead", passive=True)
        return declared.message_count


class ApiTraffic:
    """Clients reading one firm from registry, a few at a time, until stopped."""

    def __init__(self, url: str, headers: dict[str, str], clients: int = 3):
        self.url, self.headers, self.running = url, headers, True
        self.threads = [eventlet.spawn(self.loop) for _ in range(clients)]

    def loop(self) -> None:
        while self.running:
            try:
                requests.get(self.url, headers=self.headers, timeout=5)
            except requests.RequestException:
                eventlet.sleep(0.1)

    def stop(self) -> None:
        self.running = False
        for thread in self.threads:
            thread.wait()


def test_alerts_fire_on_real_faults_and_then_resolve(broker, database_server, services, tmp_path):
    amqp, started = services
    registry, tiering = started["registry"], started["tiering"]
    assert_readiness_opens_no_connection(broker, registry)

    rules = write_rules(tmp_path / "rules.yml", groups(TIMESCALE))
    targets = [s.base_url.removeprefix("http://") for s in started.values()]
    config = local_config(targets, broker.prometheus_address, [rules], interval="1s")
    prometheus = PrometheusServer(tmp_path / "prometheus", config).start()
    try:
        known = publish_registrations(amqp, 3)[0]
        firm_url = f"{registry.base_url}/v1/enterprises/{known}"
        with ClusterRpcProxy({"AMQP_URI": amqp}, timeout=30) as cluster:
            key = cluster.auth.issue({"kind": "admin", "subject": "admin"})["key"]
        admin = {"Authorization": f"Bearer {key}"}
        wait_for(
            lambda: requests.get(firm_url, headers=admin, timeout=5).ok,
            what="a first firm registered",
        )
        wait_for(  # every service and the broker's two endpoints (per node, per queue)
            lambda: len(prometheus.query("up == 1")) == len(targets) + 2,
            timeout=30,
            what="Prometheus to scrape every service and the broker's two endpoints",
        )

        # A consumer dies: its queue has none.
        tiering.kill()
        changes(prometheus, "TrackerQueueWithoutConsumer", "firing", queue=TIERING_QUEUE)
        tiering.start()
        changes(prometheus, "TrackerQueueWithoutConsumer", None, queue=TIERING_QUEUE)

        # The database hangs: tiering's workers wait on it, holding the events they took.
        database_server.freeze()
        dispatch = event_dispatcher({"AMQP_URI": amqp})
        for n in range(20):
            dispatch("registry", "enterprise_updated", firm() | {"uscc": jilin_uscc(n + 1)})
        backlog = {"service": "tiering", "queue": TIERING_QUEUE}
        changes(prometheus, "TrackerEventBacklogOld", "firing", **backlog)
        database_server.thaw()
        changes(prometheus, "TrackerEventBacklogOld", None, **backlog)

        # The database stops: registry reports it, parks events after their retries, and its
        # API fails; then it comes back and an operator replays what was parked.
        traffic = ApiTraffic(firm_url, admin)
        already_parked = dead_letters(amqp)
        database_server.stop()
        parked = publish_registrations(amqp, 5)
        down = {"service": "registry", "dependency": "database"}
        changes(prometheus, "TrackerDependencyDown", "firing", **down)
        changes(prometheus, "TrackerDeadLettersGrowing", "firing", queue="registry.ingress")
        changes(prometheus, "TrackerApiAvailabilityBudgetBurnFast", "firing", service="registry")
        wait_for(
            lambda: dead_letters(amqp) == already_parked + len(parked),
            timeout=30,
            what="every event published during the outage to be parked",
        )
        database_server.start()
        changes(prometheus, "TrackerDependencyDown", None, **down)
        changes(prometheus, "TrackerApiAvailabilityBudgetBurnFast", None, service="registry")
        traffic.stop()
        assert replay_parked(amqp, "registry") == already_parked + len(parked)
        changes(prometheus, "TrackerDeadLettersGrowing", None, queue="registry.ingress")
        for code in parked:
            wait_for(
                lambda c=code: (
                    requests.get(
                        f"{registry.base_url}/v1/enterprises/{c}", headers=admin, timeout=5
                    ).ok
                )
            )
    finally:
        prometheus.stop()
