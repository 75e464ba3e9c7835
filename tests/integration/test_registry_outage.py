"""A database outage in the middle of a stream: nothing lost, nothing applied twice."""

import pytest
import requests
from pymongo import MongoClient

from services.registry.service import RegistryService
from tests.support.events import annual_report, cloud_event, jilin_uscc, registration
from tests.support.keys import ADMIN_READ
from tests.support.metrics import sample
from tests.support.waiting import wait_for
from tools.cli.ingress import replay_parked

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("admin_reads")]


def start_registry(container_factory, service_config, database_server, delays):
    config = {
        **service_config,
        "MONGODB_URI": database_server.uri,
        "INGRESS_RETRY_DELAYS_MS": delays,
        "MONGODB_TIMEOUT_MS": 1000,
    }
    container = container_factory(RegistryService, config)
    container.start()
    return container


def stream(firms):
    registrations = [cloud_event("enterprise.registered", registration(c)) for c in firms]
    reports = [cloud_event("enterprise.annual_report", annual_report(c, 2024)) for c in firms]
    return registrations, reports


def retried(base_url):
    """Registry's count of ingress events sent to a delay queue (the process's own registry)."""
    text = requests.get(f"{base_url}/metrics", timeout=5).text
    return sum(
        sample(text, "tracker_events_consumed_total", service="registry", type=t, outcome="retried")
        for t in ("enterprise.registered", "enterprise.annual_report")
    )


def state_of(base_url, firms):
    out = {}
    for code in firms:
        response = requests.get(f"{base_url}/v1/enterprises/{code}", headers=ADMIN_READ, timeout=5)
        if response.status_code != 200:
            return None
        body = response.json()
        out[code] = (body["registered"], [r["year"] for r in body["annual_reports"]])
    return out


def ledger_counts(uri, database):
    with MongoClient(uri) as client:
        entries = list(client[database]["processed_events"].find({}, {"state": 1}))
    return len(entries), {e["state"] for e in entries}


def test_events_published_during_an_outage_are_retried_and_applied_once(
    container_factory,
    service_config,
    publisher,
    base_url,
    database_server,
    queues,
    mongo_database,
):
    start_registry(container_factory, service_config, database_server, "500,1000,2000,4000,8000")
    firms = [jilin_uscc() for _ in range(6)]
    registrations, reports = stream(firms)
    publisher.publish_events(registrations[:3])
    wait_for(lambda: state_of(base_url, firms[:3]), what="the first registrations")

    retried_before = retried(base_url)
    database_server.stop()
    wait_for(  # readiness is the background check's last result: at most one interval old
        lambda: requests.get(f"{base_url}/health/ready", timeout=5).status_code == 503,
        timeout=15,
        what="readiness to report the database down",
    )
    publisher.publish_events(registrations[3:] + reports)
    wait_for(
        lambda: retried(base_url) >= retried_before + len(firms[3:]) + len(reports),
        timeout=20,
        what="every event published during the outage to fail and wait for its retry",
    )
    database_server.start()

    expected = {code: (True, [2024]) for code in firms}
    wait_for(lambda: state_of(base_url, firms) == expected, timeout=40, what="every event applied")
    assert queues.depth("registry.ingress.dead") == 0
    assert ledger_counts(database_server.uri, mongo_database) == (12, {"done"})


def test_parked_events_are_replayed_by_one_command(
    container_factory, service_config, publisher, base_url, database_server, queues, rabbit_config
):
    start_registry(container_factory, service_config, database_server, "200,400")
    firms = [jilin_uscc() for _ in range(3)]
    registrations, _ = stream(firms)

    database_server.stop()
    publisher.publish_events(registrations)
    wait_for(
        lambda: queues.depth("registry.ingress.dead") == 3,
        timeout=30,
        what="three events parked after their retries",
    )
    database_server.start()
    assert state_of(base_url, firms) is None  # parked, not applied

    assert replay_parked(rabbit_config["AMQP_URI"], "registry") == 3
    wait_for(lambda: state_of(base_url, firms), timeout=20, what="the replayed events applied")
    assert queues.depth("registry.ingress.dead") == 0
