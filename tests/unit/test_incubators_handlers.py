"""incubators' use cases and reads against the in-memory storage: every guard they have."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.incubators import api, handlers, views
from services.incubators.binding import Posted
from services.incubators.rules import parse_rules
from services.incubators.schemas import EVENT_SCHEMAS
from services.incubators.storage import BUNDLED_RULES
from shared.batches import Batch
from shared.envelope import CloudEvent, load_data, parse_envelope
from shared.http import Problem
from shared.ingress import EventRejected
from shared.ratelimit import RateLimiter
from tests.support.events import (
    admission,
    carrier_report,
    cloud_event,
    graduation,
    incubator,
    jilin_uscc,
)
from tests.support.fakes.incubators import Dispatched, InMemoryIncubators, InMemoryRuleBook
from tests.support.snapshots import firm

RULES = parse_rules((BUNDLED_RULES / "jl-incubators-2025.yaml").read_text(encoding="utf-8"))
A, B = "JL-INC-0001", "JL-INC-0002"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
UNKNOWN: handlers.FoundingDates = lambda usccs: {}  # noqa: E731
CARRIER_KEY = {"kind": "incubator", "subject": A, "key_id": "ka"}
UNIT_KEY = {"kind": "unit", "subject": "220100", "key_id": "ku"}
OTHER_UNIT_KEY = {"kind": "unit", "subject": "220200", "key_id": "ko"}
ADMIN_KEY = {"kind": "admin", "subject": "admin", "key_id": "kd"}


def event(event_type: str, data: dict[str, Any], n: int = 0) -> CloudEvent:
    """A validated event, `n` minutes after T0 (its order among the others)."""
    source, at = f"/incubators/{data['incubator_id']}", T0 + timedelta(minutes=n)
    same = json.dumps([event_type, data, n], sort_keys=True)  # the same event, the same id
    document = cloud_event(event_type, data, source, str(uuid.uuid5(uuid.NAMESPACE_URL, same)), at)
    return load_data(parse_envelope(document), EVENT_SCHEMAS[event_type]())


def registered(incubator_id: str = A, n: int = 0, **fields: Any) -> CloudEvent:
    return event("incubator.registered", incubator(incubator_id, **fields), n)


def admitted(code: str, day: str = "2024-03-01", at: str = A, n: int = 1) -> CloudEvent:
    return event("incubator.firm_admitted", admission(at, code, day), n)


def graduated(code: str, day: str = "2025-05-01", at: str = A, n: int = 2) -> CloudEvent:
    return event("incubator.firm_graduated", graduation(at, code, day, "revenue"), n)


def handle(store: InMemoryIncubators, *events: CloudEvent, founded: Any = UNKNOWN) -> Batch:
    """The ingress entrypoint's work: the events, then the announcements, as the service."""
    batch, dispatch = Batch(events), Dispatched()
    handlers.announce(store, dispatch, handlers.on_events(store, RULES, batch, founded))
    batch.announced = dispatch.of("incubator_finding")  # type: ignore[attr-defined]
    return batch


def snapshot(code: str, version: int = 1, founded: str = "2023-01-01") -> dict[str, Any]:
    return firm(founded=founded) | {"uscc": code, "version": version}


def kinds(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((f["kind"], f["status"]) for f in found)


# carriers -------------------------------------------------------------------------------------


def test_the_newest_registration_wins_whatever_arrives_first():
    store = InMemoryIncubators()
    handle(store, registered(n=5, name="新名称"), registered(n=1, name="旧名称"))
    handle(store, registered(n=3, name="中间"))
    assert store.carrier(A)["name"] == "新名称" and store.carrier(A)["unit"] == "220100"


def test_a_carrier_s_report_is_checked_once_the_carrier_has_registered():
    store = InMemoryIncubators()
    small = event("incubator.annual_report", carrier_report(A, area_m2=100, incubatee_area_m2=50))
    assert handle(store, small).announced == []
    on_registration = handle(store, registered(grade="national")).announced
    assert ("national_threshold", "open") in kinds(on_registration)


# life cycles ----------------------------------------------------------------------------------


def test_an_admission_before_the_known_founding_date_is_refused():
    store, code = InMemoryIncubators(), jilin_uscc()
    batch = handle(store, admitted(code, "2024-03-01"), founded=lambda usccs: {code: "2024-06-01"})
    failure = batch.failure(batch.items[0])
    assert isinstance(failure, EventRejected) and "data.admitted_on" in failure.errors
    assert store.incubations_of_firms([code]) == {}


def test_an_admission_before_a_founding_date_learnt_later_becomes_void_with_a_finding():
    """Accepted while the founding date was unknown; the registry's facts then put it before
    the founding: the incubation is void (counting nowhere, the carrier's map too) and the
    unit is told why."""
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), admitted(code, "2024-03-01"))
    assert store.counts(A)["current"] == 1
    found = handlers.enterprise_updated(store, RULES, Batch([snapshot(code, founded="2024-06-01")]))
    assert store.incubations_of_firms([code]) == {} and store.counts(A)["current"] == 0
    assert kinds(found) == [("admitted_before_founding", "open")]


def test_a_corrected_founding_date_restores_a_void_admission():
    """The registry corrects the founding date to before the admission: the firm's only
    admission was void, and is an incubation again (the finding resolved)."""
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), admitted(code, "2024-03-01"))
    handlers.enterprise_updated(store, RULES, Batch([snapshot(code, 1, "2024-06-01")]))
    back = handlers.enterprise_updated(store, RULES, Batch([snapshot(code, 2, "2024-01-01")]))
    assert kinds(back) == [("admitted_before_founding", "resolved")]
    assert store.counts(A)["current"] == 1 and store.registry_facts([code])[code]["version"] == 2


def test_an_end_is_held_until_its_admission_arrives():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered())
    held = handle(store, graduated(code)).announced
    assert kinds(held) == [("end_without_admission", "open")]
    assert store.lifecycles_of([code])[code]["held"] != []
    paired = handle(store, admitted(code)).announced
    assert kinds(paired) == [("end_without_admission", "resolved")]
    (incubation,) = store.incubations_of_firms([code])[code]
    assert (incubation["state"], incubation["ended_on"]) == ("graduated", "2025-05-01")


def test_a_repeated_event_changes_nothing_and_announces_nothing():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), graduated(code))
    before = store.lifecycles.documents[code]["write_id"]
    assert handle(store, graduated(code)).announced == []
    assert store.lifecycles.documents[code]["write_id"] == before  # not even rewritten


def test_a_firm_whose_life_cycle_keeps_changing_under_the_batch_is_retried():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), admitted(code))
    store.lifecycles.another_writer = lambda keys: [
        store.lifecycles.put(store.lifecycles.documents[k]) for k in keys
    ]
    batch = handle(store, graduated(code))
    assert isinstance(batch.failure(batch.items[0]), handlers.ChangedMeanwhile)


def test_the_registry_is_asked_for_firms_whose_facts_are_not_kept_here():
    store, known, unknown = InMemoryIncubators(), jilin_uscc(), jilin_uscc()
    batch = handle(store, registered(), admitted(known), admitted(unknown, n=2))
    handlers.enterprise_updated(store, RULES, Batch([snapshot(known)]))
    dispatch = Dispatched()
    handlers.ask_for_snapshots(store, batch, dispatch)
    assert dispatch.of("snapshots_wanted") == [{"usccs": [unknown]}]
    handlers.enterprise_updated(store, RULES, Batch([snapshot(unknown)]))
    handlers.ask_for_snapshots(store, batch, dispatch := Dispatched())
    assert dispatch.events == []


# registry snapshots ---------------------------------------------------------------------------


def test_only_the_facts_of_firms_incubated_here_are_kept():
    store, code = InMemoryIncubators(), jilin_uscc()
    assert handlers.enterprise_updated(store, RULES, Batch([snapshot(code)])) == []
    assert store.registry_facts([code]) == {}


def test_an_older_snapshot_changes_nothing():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), admitted(code, "2024-03-01"))
    handlers.enterprise_updated(store, RULES, Batch([snapshot(code, 2, "2023-01-01")]))
    stale = handlers.enterprise_updated(store, RULES, Batch([snapshot(code, 1, "2024-06-01")]))
    assert stale == [] and store.registry_facts([code])[code]["version"] == 2
    assert store.counts(A)["current"] == 1  # the stale founding date voids nothing


def test_a_snapshot_whose_firm_keeps_changing_under_the_batch_is_retried():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), admitted(code))
    store.firms.another_writer = lambda keys: [
        store.firms.put({"_id": k, "uscc": k, "version": 0}) for k in keys
    ]
    batch = Batch([snapshot(code)])
    assert handlers.enterprise_updated(store, RULES, batch) == []
    assert "kept changing" in str(batch.failure(batch.items[0]))


def test_a_late_admission_is_found_once_the_founding_date_is_known():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), admitted(code, "2024-03-01"))
    found = handlers.enterprise_updated(store, RULES, Batch([snapshot(code, founded="2020-01-01")]))
    assert kinds(found) == [("late_admission", "open")]


# announcements --------------------------------------------------------------------------------


def test_a_finding_whose_carrier_has_not_registered_waits_for_its_unit():
    store, code = InMemoryIncubators(), jilin_uscc()
    assert handle(store, graduated(code)).announced == []  # end without admission, no unit yet
    assert [f["unit"] for f in store.findings.values()] == [None]
    on_registration = handle(store, registered(B, region_code="220202"), graduated(code, at=B))
    assert handle(store, registered()).announced[0]["unit"] == "220100"
    assert {f["unit"] for f in on_registration.announced} == {"220200"}


def test_a_finding_whose_announcement_a_crash_interrupted_is_announced_again():
    """Stored, but the worker died before dispatching it (announced_revision < revision): the
    redelivered event offers it again, and once announced it is not offered again."""
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered())
    crashed = handlers.on_events(store, RULES, Batch([graduated(code)]), UNKNOWN)  # no announce
    assert kinds(crashed) == [("end_without_admission", "open")]
    (stored,) = store.findings.values()
    assert stored["announced_revision"] < stored["revision"]
    redelivered = handle(store, graduated(code)).announced
    assert [f["event_id"] for f in redelivered] == [f"{stored['finding_id']}#1"]
    assert handle(store, graduated(code)).announced == []


def test_announcing_never_lowers_the_announced_revision():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), graduated(code))
    (stored,) = store.findings.values()
    store.mark_announced([{**stored, "revision": 0}])
    assert store.findings[stored["finding_id"]]["announced_revision"] == 1


# the sweep and rule sets ----------------------------------------------------------------------


def test_the_sweep_finds_open_incubations_beyond_their_limit_as_of_its_day():
    store, open_one, ended = InMemoryIncubators(), jilin_uscc(), jilin_uscc()
    handle(store, registered(), admitted(open_one, "2024-01-10"), admitted(ended, "2024-01-10"))
    handle(store, graduated(ended, "2024-06-01"))
    assert handlers.sweep(store, RULES, date(2027, 1, 1)) == []
    overdue = handlers.sweep(store, RULES, date(2028, 1, 11))
    assert [(f["kind"], f["uscc"]) for f in overdue] == [("incubation_overdue", open_one)]


def test_simulating_rules_changes_nothing_and_activating_them_announces_the_change():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), admitted(code, "2024-01-10"))
    text = (BUNDLED_RULES / "jl-incubators-2025.yaml").read_text(encoding="utf-8")
    strict = text.replace("id: jl-incubators-2025", "id: strict").replace(
        "limit_months: 48", "limit_months: 6"
    )
    rulebook, dispatch = InMemoryRuleBook(RULES), Dispatched()
    assert handlers.load_rules(rulebook, strict)["id"] == "strict"
    simulated = handlers.simulate(store, rulebook.get("strict"), date.today())
    assert simulated["appear"]["by_kind"] == {"incubation_overdue": 1} and store.findings == {}
    changed = handlers.activate_rules(store, rulebook, dispatch, "strict", date.today())
    assert changed == {"rules": "strict@1", "findings_changed": 1}
    assert rulebook.active_id() == "strict" and len(dispatch.of("incubator_finding")) == 1


# POST /v1/events ------------------------------------------------------------------------------


class Publisher:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def publish(self, body: bytes, routing_key: str, exchange: str, content_type: str) -> None:
        self.sent.append(routing_key)


def posted(*events: tuple[str, dict[str, Any]]) -> Posted:
    return Posted([cloud_event(t, d, source=f"/incubators/{A}", event_id=f"e{n}") for n, (t, d) in
                   enumerate(events)])  # fmt: skip


def submit(store: InMemoryIncubators, *events: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return api.submitted(store, Publisher(), A, [*posted(*events).documents])


def test_a_carrier_posts_only_its_own_events():
    answer = submit(InMemoryIncubators(), ("incubator.firm_admitted", admission(B, jilin_uscc())))
    assert answer["status"] == 403 and "0" in answer["errors"]


def test_an_end_is_posted_only_for_a_firm_the_carrier_incubates_or_admits_in_the_batch():
    store, code = InMemoryIncubators(), jilin_uscc()
    ending = ("incubator.firm_graduated", graduation(A, code))
    assert submit(store, ending)["status"] == 403
    both = submit(store, ("incubator.firm_admitted", admission(A, code)), ending)
    assert both["status"] == 202 and len(both["accepted"]) == 2


def test_a_repeat_of_an_accepted_event_is_a_duplicate_not_checked_again():
    store, code = InMemoryIncubators(), jilin_uscc()
    store.mark_accepted([(f"/incubators/{A}", "e0")])  # the incubation has ended since
    answer = submit(store, ("incubator.firm_graduated", graduation(A, code)))
    assert answer == {"status": 202, "accepted": [], "duplicates": ["e0"]}


def test_one_invalid_event_refuses_the_batch():
    bad = admission(A, jilin_uscc(), "2999-01-01")
    answer = submit(InMemoryIncubators(), ("incubator.registered", incubator()),
                    ("incubator.firm_admitted", bad))  # fmt: skip
    assert answer["status"] == 422 and list(answer["errors"]) == ["1"]


def test_post_takes_an_incubator_s_key_within_its_rate():
    store, limiter = InMemoryIncubators(), RateLimiter(0.001, 1)
    with pytest.raises(Problem) as refused:
        api.post(store, Publisher(), limiter, UNIT_KEY, request=None)
    assert refused.value.status == 403
    limiter.take(CARRIER_KEY["key_id"])  # the burst is spent
    with pytest.raises(Problem) as limited:
        api.post(store, Publisher(), limiter, CARRIER_KEY, request=None)
    assert limited.value.status == 429


# reads ----------------------------------------------------------------------------------------


def test_a_carrier_is_read_by_its_own_key_and_its_unit_s():
    store = InMemoryIncubators()
    handle(store, registered())
    for principal in (CARRIER_KEY, UNIT_KEY, ADMIN_KEY):
        assert views.scoped_incubator(store, RULES, principal, A)["incubator"]["unit"] == "220100"
    for principal, status in ((OTHER_UNIT_KEY, 403), ({**CARRIER_KEY, "subject": B}, 403)):
        with pytest.raises(Problem) as refused:
            views.scoped_incubator(store, RULES, principal, A)
        assert refused.value.status == status
    with pytest.raises(Problem) as unknown:
        views.scoped_incubator(store, RULES, ADMIN_KEY, B)
    assert unknown.value.status == 404


def test_the_findings_summary_is_for_keys_that_read_everything():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), graduated(code))
    summary = views.findings_summary(store, ADMIN_KEY)
    assert summary == {"total": 1, "by_kind": {"end_without_admission": 1},
                       "by_unit": {"220100": 1}}  # fmt: skip
    with pytest.raises(Problem) as refused:
        views.findings_summary(store, UNIT_KEY)
    assert refused.value.status == 403


def test_progress_shows_a_unit_key_its_own_unit_s_counts_and_refuses_carriers():
    store, code = InMemoryIncubators(), jilin_uscc()
    handle(store, registered(), registered(B, region_code="220202"), admitted(code))
    counts = {"tech_smes_registered": 0, "high_tech_by_year": {}, "latest_years": {}}
    views.PROGRESS.entries.clear()
    answer = views.scoped_progress(store, UNIT_KEY, {}, lambda: counts)
    assert list(answer["by_unit"]) == ["220100"] and answer["carriers"]["actual"] == 2
    with pytest.raises(Problem) as refused:
        views.scoped_progress(store, CARRIER_KEY, {}, lambda: counts)
    assert refused.value.status == 403
