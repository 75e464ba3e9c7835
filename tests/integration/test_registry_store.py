"""Order-independence of the stored record, on the real MongoDB-protocol server."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient

from services.registry import changes, records
from services.registry.schemas import (
    AnnualReport,
    EnterpriseRegistered,
    FundingRound,
    StatusChanged,
)
from services.registry.storage import Enterprises
from shared.envelope import load_data, parse_envelope
from tests.support.events import (
    annual_report,
    cloud_event,
    funding_round,
    jilin_uscc,
    registration,
    status_change,
)

pytestmark = pytest.mark.integration

SCHEMAS = {
    "enterprise.registered": EnterpriseRegistered(),
    "enterprise.annual_report": AnnualReport(),
    "enterprise.funding_round": FundingRound(),
    "enterprise.status_changed": StatusChanged(),
}
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def stream():
    """Two firms' histories, with corrections: later events for the same part replace earlier."""
    events = []
    for n, code in enumerate((jilin_uscc(9001), jilin_uscc(9002))):
        data = [
            ("enterprise.registered", registration(code, name=f"旧名 {n}")),
            (
                "enterprise.registered",
                registration(code, name=f"新名 {n}", founded_on="2019-01-01"),
            ),
            ("enterprise.annual_report", annual_report(code, 2022, revenue=1e7)),
            ("enterprise.annual_report", annual_report(code, 2023, revenue=2e7)),
            ("enterprise.annual_report", annual_report(code, 2023, revenue=2.5e7)),  # correction
            ("enterprise.annual_report", annual_report(code, 2018)),  # before founding
            ("enterprise.funding_round", funding_round(code, "A", amount=1e6)),
            ("enterprise.funding_round", funding_round(code, "A", amount=3e6)),  # update of A
            ("enterprise.funding_round", funding_round(code, "B", currency="USD")),
            ("enterprise.status_changed", status_change(code, "2024-01-01", listing="neeq")),
            ("enterprise.status_changed", status_change(code, "2023-01-01", listing="listed")),
            (
                "enterprise.status_changed",
                status_change(code, "2024-02-01", credit_blacklisted=True, active=False),
            ),
        ]
        for i, (event_type, body) in enumerate(data):
            raw = cloud_event(
                event_type, body, event_id=f"{code}-{i}", time=T0 + timedelta(minutes=i)
            )
            event = parse_envelope(raw)
            events.append(load_data(event, SCHEMAS[event_type]))
    return events


EVENTS = stream()


@pytest.fixture
def enterprises(servers, mongo_database):
    client = MongoClient(servers.mongodb_uri, tz_aware=True)
    repository = Enterprises(client[mongo_database])
    repository.ensure_indexes()
    yield repository
    client.close()


def final_state(enterprises):
    states = {}
    for document in enterprises.collection.find({}, {"_id": False}):
        snap = records.snapshot(document)
        del snap["version"]  # counts applied updates, which depends on arrival order
        states[snap["uscc"]] = snap
    return states


def replay(enterprises, events):
    enterprises.collection.delete_many({})
    for event in events:
        changes.apply(enterprises, event)
    return final_state(enterprises)


def test_the_in_order_stream_gives_the_expected_record(enterprises):
    state = replay(enterprises, EVENTS)[jilin_uscc(9001)]
    assert state["registered"] and state["profile"]["name"] == "新名 0"
    assert [(r["year"], r["revenue"]) for r in state["annual_reports"]] == [
        (2022, 1e7),
        (2023, 2.5e7),
    ]
    assert state["conflicts"][0]["part"] == "annual_report 2018"
    assert {r["round_id"]: r["amount"] for r in state["funding_rounds"]} == {"A": 3e6, "B": 2e7}
    assert state["status"] == {
        "listing": "neeq",
        "active": False,
        "credit_blacklisted": True,
        "entity_kind": "independent",
    }


def test_a_report_before_registration_is_kept_and_the_firm_shows_unregistered(enterprises):
    report = next(e for e in EVENTS if e.type == "enterprise.annual_report")
    record = changes.apply(enterprises, report)
    snap = records.snapshot(record)
    assert snap["registered"] is False and len(snap["annual_reports"]) == 1


def test_versions_only_grow(enterprises):
    by_firm: dict[str, list[int]] = {}
    for event in EVENTS:
        record = changes.apply(enterprises, event)
        if record is not None:
            by_firm.setdefault(record["uscc"], []).append(record["version"])
    for seen in by_firm.values():
        assert seen == sorted(seen) and len(set(seen)) == len(seen)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.permutations(EVENTS), st.lists(st.sampled_from(EVENTS), max_size=12))
def test_any_order_with_duplicates_ends_in_the_same_state(enterprises, shuffled, repeats):
    expected = replay(enterprises, EVENTS)
    mixed = list(shuffled)
    for offset, event in enumerate(repeats):
        mixed.insert((offset * 7) % (len(mixed) + 1), event)
    assert replay(enterprises, mixed) == expected


def test_concurrent_changes_to_one_firm_are_all_kept(enterprises):
    from eventlet.greenpool import GreenPool

    def put(year):
        return enterprises.put_part("F", f"reports.{year}", {"year": year}, "k")

    list(GreenPool(20).imap(put, range(2000, 2020)))
    record = enterprises.get("F")
    assert record["version"] == 20 and len(record["reports"]) == 20
