"""Poison and duplicates, with the real broker and database: a generated province's enterprise
events with 10% malformed ones mixed in, and the same events delivered twice and shuffled."""

import json
import random

import pytest
import requests
from prometheus_client import REGISTRY
from pymongo import MongoClient

from services.registry.schemas import EVENT_SCHEMAS as SCHEMAS
from services.registry.service import RegistryService
from services.tiering.service import TieringService
from shared.envelope import InvalidEvent, load_data, parse_envelope
from shared.ingress.topology import REJECTED_QUEUE
from shared.publisher import CLOUDEVENTS_JSON, INGRESS_EXCHANGE
from tests.support.events import (
    annual_report,
    cloud_event,
    funding_round,
    jilin_uscc,
    registration,
    status_change,
)
from tests.support.fixtures import free_port
from tests.support.keys import ADMIN_READ
from tests.support.waiting import wait_for
from tools.province.generator import Generator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("admin_reads")]

FIRMS = 40


def valid_province_events(seed, firms=FIRMS):
    """The generated province's enterprise events that are valid, each once, in order."""
    province = Generator(seed=seed, firms=firms, carriers=1, incubated=0).generate()
    events, seen = [], set()
    for event in province.enterprise_events:
        if isinstance(event, bytes) or event["id"] in seen:
            continue
        try:
            load_data(parse_envelope(event), SCHEMAS[event["type"]]())
        except InvalidEvent:
            continue
        seen.add(event["id"])
        events.append(event)
    return events


def encoded(event):
    return json.dumps(event, ensure_ascii=False).encode()


def malformed_events():
    """(body, routing key, the field its rejection must name): one of each kind of poison."""
    code = jilin_uscc()

    def event(event_type, data, **envelope):
        return encoded({**cloud_event(event_type, data), **envelope})

    registered = registration(code)
    report = annual_report(code, 2023)
    no_time = cloud_event("enterprise.registered", registered)
    del no_time["time"]
    bad_check = code[:17] + ("0" if code[17] != "0" else "1")
    return [
        (b"{this is not json", "body"),
        (b'["an", "array"]', "body"),
        (b"[" * 50_000, "body"),
        (b"\xff\xfe\x00garbage", "body"),
        (b"", "body"),
        (b'{"specversion": "1.0", "data": {"revenue": NaN}}', "id"),
        (encoded(no_time), "time"),
        (event("enterprise.registered", {**registered, "uscc": bad_check}), "data.uscc"),
        (event("enterprise.registered", {**registered, "uscc": {"$ne": None}}), "data.uscc"),
        (event("enterprise.registered", {**registered, "$where": "sleep(1000)"}), "data.$where"),
        (event("enterprise.registered", {**registered, "profile.name": "x"}), "data.profile.name"),
        (event("enterprise.registered", {**registered, "name": "长" * 10_000}), "data.name"),
        (
            event("enterprise.registered", {**registered, "founded_on": "2999-01-01"}),
            "data.founded_on",
        ),
        (event("enterprise.annual_report", {**report, "employees": 10**20}), "data.employees"),
        (event("enterprise.annual_report", {**report, "year": 2099}), "data.year"),
        (event("enterprise.annual_report", {**report, "award": "yes"}), "data.award"),
        (event("enterprise.funding_round", funding_round(code, "a.b")), "data.round_id"),
        (event("enterprise.funding_round", funding_round(code, currency="EUR")), "data.currency"),
        (event("enterprise.status_changed", status_change(code)), "data._schema"),
        (event("enterprise.bogus", registered), "type"),
        (event("enterprise.registered", [1, 2]), "data"),
        (event("enterprise.registered", registered, id={"$gt": ""}), "id"),
        (event("enterprise.registered", registered, specversion="0.3"), "specversion"),
    ]


def ledger_done(config):
    with MongoClient(config["MONGODB_URI"]) as client:
        collection = client[config["MONGODB_DATABASE"]]["processed_events"]
        return {row["id"] for row in collection.find({"state": "done"}, {"id": True})}


def queue_state(rabbit_manager, vhost, name):
    queue = rabbit_manager.get_queue(vhost, name)
    return queue.get("messages", 0), queue.get("messages_unacknowledged", 0)


def consumer_tags(rabbit_manager, vhost, queue):
    consumers = rabbit_manager._get("consumers", vhost)
    return sorted(c["consumer_tag"] for c in consumers if c["queue"]["name"] == queue)


def publish(publisher, body, routing_key):
    publisher.publish(body, routing_key, INGRESS_EXCHANGE, CLOUDEVENTS_JSON)


def test_ten_percent_poison_is_rejected_with_reasons_and_every_valid_event_is_processed(
    container_factory, service_config, publisher, queues, rabbit_manager, rabbit_config
):
    container_factory(RegistryService, service_config).start()
    vhost = rabbit_config["vhost"]
    valid = valid_province_events(seed=7, firms=48)
    kinds = malformed_events()
    poison_count = round(len(valid) / 9)  # 10% of everything sent
    poison = [kinds[i % len(kinds)] for i in range(poison_count)]
    assert poison_count >= len(kinds)  # every kind at least once
    stream = [(encoded(e), e["type"], None) for e in valid]
    rng = random.Random(10)
    for body, field in poison:
        stream.insert(rng.randrange(len(stream) + 1), (body, "enterprise.registered", field))
    tags = wait_for(lambda: consumer_tags(rabbit_manager, vhost, "registry.ingress"))

    for body, routing_key, _ in stream:
        publish(publisher, body, routing_key)

    ids = {e["id"] for e in valid}
    wait_for(lambda: ledger_done(service_config) == ids, timeout=120, what="every valid event")
    rejected = []
    wait_for(
        lambda: rejected.extend(queues.drain(REJECTED_QUEUE)) or len(rejected) >= len(poison),
        timeout=30,
        what="every malformed event rejected",
    )
    wait_for(lambda: queue_state(rabbit_manager, vhost, "registry.ingress") == (0, 0))
    rejected += queues.drain(REJECTED_QUEUE)  # nothing more: no message went round twice
    assert len(rejected) == len(poison)
    expected = sorted((body, field) for body, field in poison)
    got = []
    for message in rejected:
        reason = json.loads(message.headers["x-rejection-reason"])
        body = message.body if isinstance(message.body, bytes) else message.body.encode()
        field = next((f for b, f in poison if b == body), None)
        assert field is not None, (body[:200], reason)
        assert field in reason, (body[:80], reason)
        assert all(isinstance(m, str) for messages in reason.values() for m in messages)
        got.append((body, field))
    assert sorted(got) == expected
    assert queues.depth("registry.ingress.dead") == 0
    assert consumer_tags(rabbit_manager, vhost, "registry.ingress") == tags  # never restarted
    print(f"sent {len(stream)}: {len(valid)} valid, {len(poison)} malformed of {len(kinds)} kinds")


def served_records(base_url):
    """Every firm's record as registry serves it, by USCC."""
    records, cursor = {}, None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = requests.get(
            f"{base_url}/v1/enterprises", params=params, headers=ADMIN_READ, timeout=30
        ).json()
        records |= {item["uscc"]: item for item in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            return records


def classified_versions(config):
    """The snapshot version tiering last classified, by USCC (its own database)."""
    with MongoClient(config["MONGODB_URI"]) as client:
        firms = client[config["MONGODB_DATABASE"]]["firms"]
        return {firm["_id"]: firm["version"] for firm in firms.find({}, {"version": True})}


def tier_state(base_url, codes):
    tiers = {}
    for code in codes:
        response = requests.get(
            f"{base_url}/v1/enterprises/{code}/tier", headers=ADMIN_READ, timeout=10
        )
        if response.ok:
            body = response.json()
            tiers[code] = (body["tier"], body["evaluated_year"], body["checks"])
    return tiers


def duplicates_counted():
    return sum(
        REGISTRY.get_sample_value(
            "tracker_events_consumed_total",
            {"service": "registry", "type": event_type, "outcome": "duplicate"},
        )
        or 0
        for event_type in SCHEMAS
    )


def run_once(container_factory, config, publisher, stream, expected_ids):
    """Registry and tiering on a fresh database, fed `stream`; once each event was applied,
    each copy counted as a duplicate and tiering classified every firm's last snapshot: the
    records (less `version`, which counts changes, not content) and tiers, then stopped."""
    registry = container_factory(RegistryService, config)
    tiering_config = {
        **config,
        "MONGODB_DATABASE": f"{config['MONGODB_DATABASE']}_tiering",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    tiering = container_factory(TieringService, tiering_config)
    registry.start()
    tiering.start()
    duplicates_before = duplicates_counted()
    for event in stream:
        publish(publisher, encoded(event), event["type"])
    copies = len(stream) - len(expected_ids)
    wait_for(
        lambda: (
            ledger_done(config) == expected_ids
            and duplicates_counted() - duplicates_before == copies
        ),
        timeout=180,
        what=f"every event applied and its {copies} copies counted as duplicates",
    )
    records = served_records(f"http://{config['WEB_SERVER_ADDRESS']}")
    last_versions = {code: record["version"] for code, record in records.items()}
    wait_for(
        lambda: classified_versions(tiering_config) == last_versions,
        timeout=120,
        what="tiering to classify the last snapshot of every firm",
    )
    tiers = tier_state(f"http://{tiering_config['WEB_SERVER_ADDRESS']}", sorted(records))
    registry.stop()
    tiering.stop()
    content = {code: {k: v for k, v in r.items() if k != "version"} for code, r in records.items()}
    return content, tiers


def test_every_event_twice_and_shuffled_ends_as_once_in_order(
    container_factory, service_config, publisher
):
    events = valid_province_events(seed=11)
    ids = {e["id"] for e in events}
    records, tiers = run_once(container_factory, service_config, publisher, events, ids)

    twice = events + events
    random.Random(12).shuffle(twice)
    config = {
        **service_config,
        "MONGODB_DATABASE": f"{service_config['MONGODB_DATABASE']}_twice",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    shuffled = run_once(container_factory, config, publisher, twice, ids)

    assert len(records) >= FIRMS and len(tiers) == len(records)
    assert shuffled == (records, tiers)
    print(f"{len(events)} events once in order, {len(twice)} twice shuffled: same state")
