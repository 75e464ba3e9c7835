"""registry against the real broker and MongoDB-protocol server, from ingress to HTTP."""

import json

import pytest
import requests
from kombu import Connection
from prometheus_client import REGISTRY

from services.registry.service import RegistryService
from shared.domain.uscc import install_overrides
from shared.ingress.topology import REJECTED_QUEUE
from tests.support.events import (
    annual_report,
    cloud_event,
    funding_round,
    jilin_uscc,
    registration,
    status_change,
)
from tests.support.keys import ADMIN_READ
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("admin_reads")]


@pytest.fixture
def registry(container_factory, service_config):
    container = container_factory(RegistryService, service_config)
    container.start()
    return container


@pytest.fixture
def snapshots(event_collector):
    return event_collector("registry", "enterprise_updated")


def fetch(base_url, code):
    return requests.get(f"{base_url}/v1/enterprises/{code}", headers=ADMIN_READ, timeout=5)


def counted(outcome):
    return (
        REGISTRY.get_sample_value(
            "tracker_events_consumed_total",
            {"service": "registry", "type": "enterprise.registered", "outcome": outcome},
        )
        or 0.0
    )


def test_a_registration_is_stored_served_and_announced(registry, publisher, base_url, snapshots):
    code = jilin_uscc()
    publisher.publish_events(
        [
            cloud_event(
                "enterprise.registered",
                registration(code, region_code="220581", entity_kind="branch"),
            )
        ]
    )

    response = wait_for(
        lambda: (r := fetch(base_url, code)).status_code == 200 and r, what="the stored firm"
    )
    body = response.json()
    assert body["uscc"] == code and body["registered"] is True
    assert body["unit"] == "220581"
    assert body["profile"]["founded_on"] == "2019-05-20"
    assert body["status"]["entity_kind"] == "branch"
    announced = wait_for(snapshots, what="the snapshot")
    assert [event["uscc"] for event in announced] == [code]


def test_a_duplicate_changes_nothing_and_is_counted(registry, publisher, base_url, snapshots):
    code = jilin_uscc()
    event = cloud_event("enterprise.registered", registration(code))
    before = counted("duplicate")
    publisher.publish_events([event])
    [first] = wait_for(snapshots, what="first announcement")
    renamed = {**event, "data": {**event["data"], "name": "changed under the same id"}}
    publisher.publish_events([event, renamed])
    wait_for(lambda: counted("duplicate") >= before + 2, what="two duplicates counted")
    # A later event about the same firm, the same way: registry changes a firm's record one
    # event at a time and announces each change with the next version, so the one snapshot
    # that comes, one version on, says the duplicates neither changed nor announced anything.
    publisher.publish_events([cloud_event("enterprise.annual_report", annual_report(code, 2023))])
    announced = wait_for(snapshots, what="the later event's snapshot")
    assert [(s["uscc"], s["version"]) for s in announced] == [(code, first["version"] + 1)]
    assert announced[0]["profile"]["name"] == event["data"]["name"]
    assert fetch(base_url, code).json()["profile"]["name"] == event["data"]["name"]


def test_an_older_registration_does_not_overwrite_a_newer_one(registry, publisher, base_url):
    code = jilin_uscc()
    newer = cloud_event("enterprise.registered", registration(code, name="新名称"))
    older = cloud_event("enterprise.registered", registration(code, name="旧名称"))
    older["time"] = "2020-01-01T00:00:00+00:00"
    publisher.publish_events([newer, older])
    wait_for(lambda: counted("processed") and fetch(base_url, code).status_code == 200)
    wait_for(lambda: registry_idle(publisher), what="queue drained")
    assert fetch(base_url, code).json()["profile"]["name"] == "新名称"


def without(attribute, event):
    return {name: value for name, value in event.items() if name != attribute}


def registry_idle(publisher):
    with Connection(publisher.amqp_uri) as conn:
        _, count, _ = conn.default_channel.queue_declare("registry.ingress", passive=True)
        return count == 0


BAD_EVENTS = [
    (b"this is not json", "body"),
    (b'["an", "array"]', "body"),
    (json.dumps(without("time", cloud_event("enterprise.registered", {}))).encode(), "time"),
    (cloud_event("enterprise.registered", registration("91220101000000001X")), "data.uscc"),
    (cloud_event("enterprise.registered", registration(listing="nasdaq")), "data.listing"),
    (cloud_event("enterprise.registered", registration(founded_on=19990101)), "data.founded_on"),
    (
        cloud_event("enterprise.registered", registration(founded_on="2999-01-01")),
        "data.founded_on",
    ),
    (cloud_event("enterprise.registered", {"uscc": jilin_uscc()}), "data.name"),
    (cloud_event("enterprise.bogus", registration()), "type"),
]


@pytest.mark.parametrize(("body", "field"), BAD_EVENTS)
def test_bad_input_is_rejected_with_the_field_and_the_consumer_goes_on(
    registry, publisher, base_url, queues, body, field
):
    if isinstance(body, bytes):
        publisher.publish(
            body, "enterprise.registered", "tracker.ingress", "application/cloudevents+json"
        )
    else:
        publisher.publish_events([body])
    rejected = wait_for(lambda: queues.drain(REJECTED_QUEUE), what="a rejected message")
    assert len(rejected) == 1
    message = rejected[0]
    expected_body = (
        body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    )
    assert message.body == expected_body
    reason = json.loads(message.headers["x-rejection-reason"])
    assert field in reason, reason

    code = jilin_uscc()  # the consumer still works after the bad message
    publisher.publish_events([cloud_event("enterprise.registered", registration(code))])
    wait_for(lambda: fetch(base_url, code).status_code == 200, what="a good event after a bad one")


def test_http_errors_are_problem_documents(registry, base_url):
    malformed = fetch(base_url, "NOT-A-CODE")
    assert malformed.status_code == 400
    assert malformed.headers["Content-Type"].startswith("application/problem+json")
    assert "uscc" in malformed.json()["errors"]

    unknown = fetch(base_url, jilin_uscc())
    assert unknown.status_code == 404 and unknown.json()["status"] == 404

    nowhere = requests.get(f"{base_url}/v2/nothing", timeout=5)
    assert nowhere.status_code == 404 and nowhere.json()["title"] == "Not Found"


def test_health_and_metrics(registry, publisher, base_url):
    assert requests.get(f"{base_url}/health/live", timeout=5).status_code == 200
    assert requests.get(f"{base_url}/health/ready", timeout=10).json() == {"status": "ready"}
    publisher.publish_events([cloud_event("enterprise.registered", registration())])
    wait_for(lambda: counted("processed"), what="one processed event")
    text = requests.get(f"{base_url}/metrics", timeout=5).text
    for family in (
        "tracker_events_consumed_total",
        "tracker_entrypoint_duration_seconds",
        "tracker_build_info",
        "tracker_last_event_processed_timestamp_seconds",
    ):
        assert family in text


def test_every_event_type_builds_the_record_and_announces_snapshots(
    registry, publisher, base_url, snapshots
):
    code = jilin_uscc()
    publisher.publish_events(
        [
            cloud_event("enterprise.registered", registration(code)),
            cloud_event("enterprise.annual_report", annual_report(code, 2023)),
            cloud_event("enterprise.funding_round", funding_round(code, "seed-1", currency="USD")),
            cloud_event("enterprise.status_changed", status_change(code, listing="neeq")),
        ]
    )

    def complete():
        body = fetch(base_url, code).json()
        return (
            body.get("funding_rounds")
            and body.get("annual_reports")
            and body["status"]["listing"] == "neeq"
            and body
        )

    body = wait_for(complete, what="all four parts stored")
    assert body["annual_reports"][0]["year"] == 2023
    assert body["funding_rounds"][0]["currency"] == "USD"
    announced = []
    wait_for(
        lambda: announced.extend(snapshots()) or body in announced,
        what="the complete record announced",
    )
    versions = [snap["version"] for snap in announced]  # batched events: one snapshot or more
    assert len(set(versions)) == len(versions) and max(versions) == body["version"]


def test_reports_before_registration_are_kept_and_the_firm_shows_unregistered(
    registry, publisher, base_url
):
    code = jilin_uscc()
    publisher.publish_events([cloud_event("enterprise.annual_report", annual_report(code, 2023))])
    early = wait_for(lambda: (r := fetch(base_url, code)).status_code == 200 and r.json())
    assert early["registered"] is False and len(early["annual_reports"]) == 1
    publisher.publish_events([cloud_event("enterprise.registered", registration(code))])
    later = wait_for(lambda: (body := fetch(base_url, code).json())["registered"] and body)
    assert later["annual_reports"] == early["annual_reports"] and later["unit"] == "220100"


def test_listing_with_filters_and_cursor_pagination(registry, publisher, base_url):
    firms = [jilin_uscc(region="220202") for _ in range(5)]
    publisher.publish_events(
        [
            cloud_event(
                "enterprise.registered", registration(c, region_code="220202", industry="chemicals")
            )
            for c in firms
        ]
        + [cloud_event("enterprise.registered", registration(jilin_uscc()))]
        + [cloud_event("enterprise.annual_report", annual_report(jilin_uscc(), 2023))]
    )

    def listing(**params):
        return requests.get(
            f"{base_url}/v1/enterprises", params=params, headers=ADMIN_READ, timeout=5
        )

    wait_for(lambda: len(listing(unit="220200").json()["items"]) == 5, what="5 firms in 220200")
    seen, cursor = [], None
    while True:
        page = listing(unit="220200", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [item["uscc"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(firms)
    assert len(listing(industry="chemicals").json()["items"]) == 5
    wait_for(lambda: len(listing(registered="false").json()["items"]) == 1, what="unregistered")
    bad = listing(limit=0, colour="red")
    assert bad.status_code == 400 and {"limit", "colour"} <= set(bad.json()["errors"])
    assert listing(cursor="%%%").status_code == 400


def test_a_real_code_that_fails_the_check_is_registered_once_an_administrator_approved_it(
    container_factory, service_config, publisher, base_url, queues
):
    failing = "912201010000000011"  # its check character should be 0
    approval = {
        "uscc": failing,
        "reason": "issued before the check was enforced (SAMR record 2019-123)",
        "approved_by": "Wang Li",
        "approved_on": "2026-11-29",
    }
    config = {
        **service_config,
        "SERVICE_CONTAINER_CLS": "shared.container.TrackerContainer",  # as config.yaml says
        "USCC_OVERRIDES": [approval],
    }
    container = container_factory(RegistryService, config)
    container.start()
    try:
        publisher.publish_events([cloud_event("enterprise.registered", registration(failing))])
        wait_for(lambda: fetch(base_url, failing).status_code == 200, what="the approved code")
        assert queues.drain(REJECTED_QUEUE) == []
    finally:
        container.stop()
        install_overrides({})  # the approvals are per process: leave none to later tests


def test_a_routing_key_of_no_known_family_is_rejected_with_a_reason(registry, publisher, queues):
    """RabbitMQ would drop it (no binding matches); the routing exchange's alternate exchange
    catches it and a service rejects it, so nothing published to tracker.ingress vanishes."""
    body = json.dumps(cloud_event("enterprise.registered", registration(jilin_uscc()))).encode()
    publisher.publish(body, "enterprse.registered", "tracker.ingress", "application/json")
    rejected = wait_for(lambda: queues.drain(REJECTED_QUEUE), what="the misrouted message")
    assert rejected[0].body == body
    reason = json.loads(rejected[0].headers["x-rejection-reason"])
    assert reason == {
        "type": ["no service takes routing key 'enterprse.registered'; it must be the event's type"]
    }


def test_an_event_for_a_service_that_never_ran_waits_in_its_queue(registry, publisher, queues):
    """Every service declares every ingress queue, so incubators' events published while
    only the registry has ever run are kept for it, not rejected as unrouted."""
    admitted = cloud_event(
        "incubator.firm_admitted",
        {"incubator_id": "JL-INC-0001", "uscc": jilin_uscc(), "admitted_on": "2024-03-01"},
    )
    publisher.publish_events([admitted])
    waiting = wait_for(lambda: queues.drain("incubators.ingress"), what="the queued event")
    assert json.loads(waiting[0].body)["id"] == admitted["id"]
    assert queues.drain(REJECTED_QUEUE) == []
