"""registry as a real `nameko run` process: events in through kombu, results out over HTTP."""

import json

import pytest
import requests

from shared.ingress.topology import REJECTED_QUEUE
from tests.support.events import cloud_event, jilin_uscc, registration
from tests.support.metrics import sample
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def test_registrations_duplicates_and_rejections_end_to_end(
    run_service, publisher, queues, auth_process
):
    registry = run_service("registry")
    admin = auth_process.headers("admin")
    firms = [jilin_uscc(region=region) for region in ("220102", "220581", "222401")]
    events = [
        cloud_event("enterprise.registered", registration(code, region_code=code[2:8]))
        for code in firms
    ]
    bad = cloud_event("enterprise.registered", registration("912201020000000000"))
    publisher.publish_events([*events, events[0], bad])

    def stored(code):
        response = requests.get(
            f"{registry.base_url}/v1/enterprises/{code}", headers=admin, timeout=5
        )
        return response.json() if response.status_code == 200 else None

    records = [wait_for(lambda code=code: stored(code), what=f"firm {code}") for code in firms]
    assert [r["unit"] for r in records] == ["220100", "220581", "222400"]

    rejected = wait_for(lambda: queues.drain(REJECTED_QUEUE), what="the bad event rejected")
    assert "data.uscc" in json.loads(rejected[0].headers["x-rejection-reason"])

    def consumed(outcome):
        text = requests.get(f"{registry.base_url}/metrics", timeout=5).text
        return sample(
            text,
            "tracker_events_consumed_total",
            service="registry",
            type="enterprise.registered",
            outcome=outcome,
        )

    wait_for(lambda: consumed("duplicate") == 1, what="the duplicate counted")
    assert consumed("processed") == 3
    assert consumed("rejected") == 1

    assert registry.stop() == 0, registry.log()[-2000:]
