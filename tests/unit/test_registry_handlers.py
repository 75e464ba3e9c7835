"""registry's use cases on the in-memory fake: which events write, which announce, and what a
write lost to another process does."""

from datetime import UTC, datetime, timedelta

import pytest

from services.registry import handlers
from services.registry.handlers import ChangedMeanwhile
from services.registry.schemas import EVENT_SCHEMAS
from shared.batches import Batch
from shared.envelope import CloudEvent, load_data, parse_envelope
from shared.versioned import ATTEMPTS, WRITE_ID
from tests.support.events import annual_report, cloud_event, jilin_uscc, registration
from tests.support.fakes.registry import InMemoryEnterprises

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def event(event_type, data, minutes=0, event_id=None):
    raw = cloud_event(event_type, data, event_id=event_id, time=T0 + timedelta(minutes=minutes))
    return load_data(parse_envelope(raw), EVENT_SCHEMAS[event_type]())


def report(code, year, revenue=1e7, minutes=0):
    return event("enterprise.annual_report", annual_report(code, year, revenue=revenue), minutes)


@pytest.fixture
def store():
    return InMemoryEnterprises()


def apply(store, events: list[CloudEvent]):
    """One batch through the use case: the snapshots announced, and the batch's failures."""
    announced = []
    batch = Batch(events)
    handlers.apply_events(store, batch, announced.extend)
    return announced, batch.failures


def applied(store, events):
    announced, failures = apply(store, events)
    assert failures == {}
    return announced


def test_a_firm_is_stored_at_version_1_and_its_snapshot_announced(store):
    code = jilin_uscc()
    [snapshot] = applied(store, [event("enterprise.registered", registration(code))])
    assert (snapshot["uscc"], snapshot["version"], snapshot["registered"]) == (code, 1, True)
    assert store.read([code])[code]["version"] == 1


def test_a_batchs_events_for_one_firm_make_one_write_one_version_one_announcement(store):
    code = jilin_uscc()
    events = [
        event("enterprise.registered", registration(code)),
        report(code, 2022),
        report(code, 2023),
    ]
    [snapshot] = applied(store, events)
    assert snapshot["version"] == 1
    assert [r["year"] for r in snapshot["annual_reports"]] == [2022, 2023]


def test_each_firm_of_a_batch_is_announced_once(store):
    a, b = jilin_uscc(), jilin_uscc()
    announced = applied(store, [report(a, 2022), report(b, 2022), report(a, 2023)])
    assert sorted(s["uscc"] for s in announced) == sorted([a, b])


def test_an_event_applied_before_writes_nothing_and_announces_the_stored_snapshot_again(store):
    """An attempt that stored the change and died before recording the event: the redelivered
    event must cause what it should have caused, the announcement, and nothing else."""
    code = jilin_uscc()
    first = report(code, 2022)
    [snapshot] = applied(store, [first])
    written = store.stored(code)
    assert applied(store, [first]) == [snapshot]
    assert store.stored(code) == written


def test_an_event_older_than_the_part_stored_writes_and_announces_nothing(store):
    code = jilin_uscc()
    newer, older = report(code, 2023, revenue=2e7, minutes=5), report(code, 2023, revenue=1e7)
    applied(store, [newer])
    written = store.stored(code)
    assert applied(store, [older]) == []
    assert store.stored(code) == written


def test_the_order_key_decides_not_the_arrival(store):
    code = jilin_uscc()
    newer, older = report(code, 2023, revenue=2e7, minutes=5), report(code, 2023, revenue=1e7)
    [snapshot] = applied(store, [newer, older])
    assert snapshot["annual_reports"][0]["revenue"] == 2e7


def test_a_batch_with_an_old_and_a_new_event_of_a_firm_stores_and_announces_once(store):
    code = jilin_uscc()
    old = report(code, 2022)
    applied(store, [old])
    [snapshot] = applied(store, [old, report(code, 2023)])
    assert snapshot["version"] == 2 and len(snapshot["annual_reports"]) == 2


def test_a_write_lost_to_another_process_is_applied_again_to_what_it_stored(store):
    code = jilin_uscc()
    applied(store, [report(code, 2022)])
    other = store.another_process()
    store.versioned.meanwhile(lambda: applied(other, [report(code, 2023)]))
    [snapshot] = applied(store, [report(code, 2024)])
    assert [r["year"] for r in snapshot["annual_reports"]] == [2022, 2023, 2024]
    assert snapshot["version"] == 3 == store.read([code])[code]["version"]


def test_a_lost_write_whose_event_another_process_overtook_announces_nothing(store):
    """Retried on what the other process stored, the event is older than the part stored: the
    record this batch computed first was never stored and must not be announced."""
    code = jilin_uscc()
    other = store.another_process()
    store.versioned.meanwhile(lambda: applied(other, [report(code, 2023, revenue=2e7, minutes=5)]))
    assert applied(store, [report(code, 2023, revenue=1e7)]) == []
    assert store.read([code])[code]["reports"]["2023"]["revenue"] == 2e7


def test_the_events_of_a_firm_that_keeps_losing_fail_and_only_the_others_are_announced(store):
    kept_busy, calm = jilin_uscc(), jilin_uscc()
    other = store.another_process()
    for year in range(2015, 2015 + ATTEMPTS):
        store.versioned.meanwhile(lambda year=year: applied(other, [report(kept_busy, year)]))
    events = [report(kept_busy, 2024), report(calm, 2024), report(kept_busy, 2023)]
    announced, failures = apply(store, events)
    assert [s["uscc"] for s in announced] == [calm]
    assert sorted(failures) == [0, 2]
    assert all(isinstance(exc, ChangedMeanwhile) for exc in failures.values())
    assert "2024" not in store.read([kept_busy])[kept_busy]["reports"]


def test_snapshots_wanted_are_announced_again_as_stored_and_nothing_is_written(store):
    known, unknown = jilin_uscc(), jilin_uscc()
    [snapshot] = applied(store, [report(known, 2022)])
    token = store.stored(known)[WRITE_ID]
    announced = []
    requests = Batch([{"usccs": [known, unknown]}, {"usccs": [known]}])
    handlers.resend_snapshots(store, requests, announced.extend)
    assert announced == [snapshot]
    assert store.stored(known)[WRITE_ID] == token
