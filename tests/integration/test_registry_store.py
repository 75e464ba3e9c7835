"""Order-independence of the stored record, on the real MongoDB-protocol server."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient

from services.registry import handlers, records
from services.registry.schemas import (
    AnnualReport,
    EnterpriseRegistered,
    FundingRound,
    StatusChanged,
)
from services.registry.storage import Enterprises
from shared.batches import Batch
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
    for record in enterprises.page({"limit": 500}, None):
        snap = records.snapshot(record)
        del snap["version"]  # counts stored changes, which depends on arrival and batching
        states[snap["uscc"]] = snap
    return states


def apply(enterprises, events):
    """One batch through the registry's use case; the snapshots it announced."""
    announced = []
    batch = Batch(events)
    handlers.apply_events(enterprises, batch, announced.extend)
    assert batch.failures == {}
    return announced


def replay(enterprises, events, batch_size=1):
    enterprises.collection.delete_many({})
    for start in range(0, len(events), batch_size):
        apply(enterprises, events[start : start + batch_size])
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
    [snap] = apply(enterprises, [report])
    assert snap["registered"] is False and len(snap["annual_reports"]) == 1


def test_versions_only_grow_and_each_change_is_announced_once_per_batch(enterprises):
    by_firm: dict[str, list[int]] = {}
    for start in range(0, len(EVENTS), 5):
        announced = apply(enterprises, EVENTS[start : start + 5])
        assert len({snap["uscc"] for snap in announced}) == len(announced)
        for snap in announced:
            by_firm.setdefault(snap["uscc"], []).append(snap["version"])
    for seen in by_firm.values():
        assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_an_event_applied_before_announces_the_current_snapshot_again(enterprises):
    """A process that stored a change and died before recording the event: the redelivered
    event changes nothing, but its firm's snapshot is announced again."""
    event = EVENTS[0]
    [first] = apply(enterprises, [event])
    assert apply(enterprises, [event]) == [first]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.permutations(EVENTS),
    st.lists(st.sampled_from(EVENTS), max_size=12),
    st.integers(min_value=1, max_value=len(EVENTS)),
)
def test_any_order_duplicates_and_batching_end_in_the_same_state(
    enterprises, shuffled, repeats, batch_size
):
    expected = replay(enterprises, EVENTS)
    mixed = list(shuffled)
    for offset, event in enumerate(repeats):
        mixed.insert((offset * 7) % (len(mixed) + 1), event)
    assert replay(enterprises, mixed, batch_size) == expected


def test_a_record_changed_by_another_process_meanwhile_is_read_again(enterprises):
    """Another replica stores a change between this batch's read and its write: the write is
    refused by the version guard, the record is read again and nothing is lost."""
    code = jilin_uscc(9003)
    first, meanwhile, ours = (
        load_data(parse_envelope(cloud_event(t, body)), SCHEMAS[t])
        for t, body in (
            ("enterprise.annual_report", annual_report(code, 2022)),
            ("enterprise.annual_report", annual_report(code, 2023)),
            ("enterprise.annual_report", annual_report(code, 2024)),
        )
    )
    apply(enterprises, [first])
    other = Enterprises(enterprises.db)
    interleaved = Enterprises(enterprises.db)
    reads = []

    def read_then_another_writes(keys, read=interleaved.versioned.read):
        found = read(keys)
        reads.append(sorted(keys))
        if len(reads) == 1:
            apply(other, [meanwhile])
        return found

    interleaved.versioned.read = read_then_another_writes
    [announced] = apply(interleaved, [ours])
    assert reads == [[code], [code]]
    assert [r["year"] for r in announced["annual_reports"]] == [2022, 2023, 2024]
    assert announced["version"] == 3


def test_progress_is_counted_from_the_facts_kept_beside_each_record(enterprises):
    """Technology SMEs by their latest report, high-tech certificates by year."""
    a, b = jilin_uscc(9004), jilin_uscc(9005)
    events = [
        ("enterprise.registered", registration(a)),
        ("enterprise.annual_report", annual_report(a, 2022, tech_sme_registered=False)),
        ("enterprise.annual_report", annual_report(a, 2023, high_tech_certified=False)),
        ("enterprise.annual_report", annual_report(b, 2023, high_tech_certified=False)),
        ("enterprise.annual_report", annual_report(b, 2024, tech_sme_registered=False)),
    ]
    apply(
        enterprises, [load_data(parse_envelope(cloud_event(t, d)), SCHEMAS[t]) for t, d in events]
    )
    assert enterprises.count_progress() == {
        "tech_smes_registered": 1,
        "high_tech_by_year": {"2022": 1, "2024": 1},
        "latest_years": {"2023": 1, "2024": 1},
    }
