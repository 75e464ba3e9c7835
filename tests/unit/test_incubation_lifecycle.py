"""The order-free incubation life cycle (services/incubators/lifecycle.py): any order and any
repeat of a firm's events across carriers gives the same incubations, held ends and findings."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.incubators import findings, lifecycle
from services.incubators.rules import parse_rules
from services.incubators.storage import BUNDLED_RULES
from shared.envelope import CloudEvent

RULES = parse_rules((BUNDLED_RULES / "jl-incubators-2025.yaml").read_text(encoding="utf-8"))
USCC = "912201010000000010"
TODAY = date(2024, 6, 1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def event(event_type, incubator, n, **data):
    days = {k: date.fromisoformat(v) for k, v in data.items() if k.endswith("_on")}
    return CloudEvent(
        id=f"{incubator}-{n}",
        source=f"/incubators/{incubator}",
        type=event_type,
        time=T0 + timedelta(minutes=n),
        data={"incubator_id": incubator, "uscc": USCC, **data, **days},
    )


def admitted(incubator, n, day, track=None):
    return event("incubator.firm_admitted", incubator, n, admitted_on=day, track=track)


def graduated(incubator, n, day, basis="revenue"):
    return event("incubator.firm_graduated", incubator, n, graduated_on=day, basis=basis)


def exited(incubator, n, day):
    return event("incubator.firm_exited", incubator, n, exited_on=day, reason="moved away")


def replay(events, founded_on=None):
    """The facts after each event in turn (refused ones left out); what was refused."""
    facts, refused = {}, []
    for e in events:
        try:
            facts = lifecycle.add(facts, e, founded_on)
        except lifecycle.Refused as exc:
            refused.append((e.id, exc.errors))
    return facts, refused


def state(events, founded_on=None, known_on_arrival=True):
    """Incubations, held ends, finding ids and refusals once every event is in: the founding
    date known when the events arrive, or only afterwards."""
    facts, refused = replay(events, founded_on if known_on_arrival else None)
    derived = lifecycle.derive(USCC, facts, founded_on)
    registry = None if founded_on is None else {"profile": {"founded_on": founded_on}}
    found = findings.firm_findings(RULES, USCC, derived, registry, TODAY)
    return derived.incubations, derived.held, sorted(f["finding_id"] for f in found), refused


def test_the_issue_example_in_either_order():
    """Admitted at A, graduated from A, then admitted at B: the same whatever arrives first."""
    stream = [
        admitted("A", 1, "2022-01-10"),
        graduated("A", 2, "2023-03-01"),
        admitted("B", 3, "2023-06-01"),
    ]
    expected = state(stream)
    assert [(i["incubator_id"], i["state"]) for i in expected[0]] == [
        ("A", "graduated"),
        ("B", "open"),
    ]
    assert expected[1:] == ([], [], [])
    assert state(list(reversed(stream))) == expected
    assert state([stream[2], stream[0], stream[1]]) == expected


def test_a_back_filled_earlier_incubation_is_taken():
    later = [admitted("B", 1, "2023-06-01")]
    backfill = [admitted("A", 2, "2021-01-05"), exited("A", 3, "2021-11-30")]
    incubations, held, found, refused = state(later + backfill)
    assert [(i["incubator_id"], i["state"]) for i in incubations] == [
        ("A", "exited"),
        ("B", "open"),
    ]
    assert (held, found, refused) == ([], [], [])


def test_an_end_before_its_admission_is_held_and_paired_when_it_comes():
    end = exited("A", 2, "2024-02-01")
    incubations, held, found, _ = state([end])
    assert incubations == [] and [e["key"] for e in held] == ["/incubators/A|A-2"]
    assert found == ["unpaired_end:/incubators/A|A-2"]
    incubations, held, found, _ = state([end, admitted("A", 1, "2023-01-01")])
    assert [i["state"] for i in incubations] == ["exited"] and held == [] and found == []


def test_a_readmission_on_the_day_an_incubation_ended_is_one_of_its_own():
    stream = [
        admitted("A", 1, "2022-01-01"),
        exited("A", 2, "2023-01-01"),
        admitted("A", 3, "2023-01-01"),
    ]
    for order in (stream, stream[::-1]):
        incubations = state(order)[0]
        assert [(i["admitted_on"], i["state"]) for i in incubations] == [
            ("2022-01-01", "exited"),
            ("2023-01-01", "open"),
        ]
        assert incubations[0]["incubation_id"] != incubations[1]["incubation_id"]


def test_overlapping_incubations_are_a_finding_until_the_data_separates_them():
    a, b = admitted("A", 1, "2022-01-10"), admitted("B", 2, "2023-06-01")
    assert state([a, b])[2] == [
        "overlap:A:912201010000000010:2022-01-10|B:912201010000000010:2023-06-01"
    ]
    assert state([a, b, graduated("A", 3, "2023-03-01")])[2] == []


def test_a_date_before_the_founding_is_refused_when_the_founding_date_is_known():
    _, refused = replay([admitted("A", 3, "2019-12-31")], founded_on="2020-01-01")
    assert refused[0][1] == {
        "data.admitted_on": ["2019-12-31 is before the firm was founded, on 2020-01-01"]
    }
    _, refused = replay([graduated("A", 4, "2019-06-01")], founded_on="2020-01-01")
    assert "data.graduated_on" in refused[0][1]


def test_an_admission_the_founding_date_contradicts_later_is_void_and_counts_nowhere():
    """Accepted before the registry knew the founding date: once it does, the incubation goes
    (as if refused) and a finding says why; the incubations are those of a refusal."""
    early, later = admitted("A", 1, "2019-12-31"), admitted("B", 2, "2021-03-01")
    refused_then = state([early, later], founded_on="2020-01-01")
    voided_later = state([early, later], founded_on="2020-01-01", known_on_arrival=False)
    assert voided_later[0] == refused_then[0]
    assert [i["incubator_id"] for i in voided_later[0]] == ["B"]
    assert voided_later[2] == ["admitted_before_founding:A:912201010000000010:2019-12-31"]
    assert state([early, later])[0] != voided_later[0]  # before the date is known: counted


def test_two_carriers_on_one_day_are_both_kept_and_a_finding_in_any_order():
    a, b = admitted("A", 1, "2022-01-10"), admitted("B", 2, "2022-01-10")
    expected = state([a, b])
    assert expected == state([b, a])
    assert [i["incubator_id"] for i in expected[0]] == ["A", "B"]
    assert expected[2] == [
        "overlap:A:912201010000000010:2022-01-10|B:912201010000000010:2022-01-10"
    ]
    assert expected[3] == []


def test_one_carrier_sending_an_admission_again_under_a_new_id_is_one_admission():
    first = admitted("A", 1, "2022-01-10", track="ic_design")
    again = event("incubator.firm_admitted", "A", 2, admitted_on="2022-01-10", track=None)
    for order in ([first, again], [again, first]):
        incubations, _, found, refused = state(order)
        assert [(i["incubator_id"], i["track"]) for i in incubations] == [("A", "ic_design")]
        assert (found, refused) == ([], [])


# A firm's consistent history over several carriers: consecutive incubations, each ended or
# the last left open, readmissions allowed on the day the last one ended.
@st.composite
def histories(draw):
    carriers = draw(st.lists(st.sampled_from("ABCD"), min_size=1, max_size=5))
    day, events, n = date(2015, 1, 1), [], 0
    for position, carrier in enumerate(carriers):
        day += timedelta(days=draw(st.integers(0 if position else 1, 400)))
        n += 1
        events.append(
            admitted(carrier, n, day.isoformat(), draw(st.sampled_from([None, "ic_design"])))
        )
        last = position == len(carriers) - 1
        if last and draw(st.booleans()):
            break
        day += timedelta(days=draw(st.integers(1, 1900)))
        n += 1
        end = graduated if draw(st.booleans()) else exited
        events.append(end(carrier, n, day.isoformat()))
    return events


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False), st.lists(st.integers(0, 20), max_size=6))
def test_any_order_and_any_repeat_give_the_same_incubations_and_findings(events, rng, repeats):
    expected = state(events)
    assert expected[3] == [] and expected[1] == []  # consistent: nothing refused, nothing held
    shuffled = list(events) + [events[r % len(events)] for r in repeats]
    rng.shuffle(shuffled)
    assert state(shuffled) == expected


@pytest.mark.parametrize(
    ("basis", "reports", "rounds", "listing", "supported"),
    [
        (
            "investment",
            [],
            [("2023-01-01", 1_000_000.0, "CNY")] * 5,
            "unlisted",
            False,
        ),  # exactly 500万
        ("investment", [], [("2023-01-01", 1_000_000.01, "CNY")] * 5, "unlisted", True),
        ("investment", [], [("2023-01-01", 700_000.0, "USD")], "unlisted", True),  # 504万 at 7.2
        ("acquired_or_listed", [], [], "neeq", True),  # NEEQ 挂牌 counts for graduation
        ("acquired_or_listed", [], [], "unlisted", False),
        ("high_tech", [(2022, True)], [], "unlisted", True),  # G-2
        ("high_tech", [(2021, True)], [], "unlisted", False),  # G-3: expired
        (
            "revenue",
            [(2023, False, 5_000_000.0), (2024, False, 5_000_000.0)],
            [],
            "unlisted",
            False,
        ),
        (
            "revenue",
            [(2023, False, 5_000_000.0), (2024, False, 5_000_000.01)],
            [],
            "unlisted",
            True,
        ),
    ],
)
def test_graduation_bases_are_checked_exactly(basis, reports, rounds, listing, supported):
    registry = {
        "annual_reports": [
            {"year": r[0], "high_tech_certified": r[1], "revenue": r[2] if len(r) > 2 else 0.0}
            for r in reports
        ],
        "funding_rounds": [{"date": d, "amount": a, "currency": c} for d, a, c in rounds],
        "status": {"listing": listing},
    }
    assert (findings.basis_supported(RULES, basis, "2024-06-30", registry) is None) is supported


# Any stream at all: conflicting, same-day, before the founding date, ends without admissions.
def any_event(draw, n):
    carrier = draw(st.sampled_from("ABC"))
    day = (date(2019, 6, 1) + timedelta(days=draw(st.integers(0, 1500)))).isoformat()
    kind = draw(st.sampled_from([admitted, admitted, graduated, exited]))
    if kind is admitted:
        return admitted(carrier, n, day, draw(st.sampled_from([None, "ic_design"])))
    return kind(carrier, n, day)


@st.composite
def streams(draw):
    return [any_event(draw, n) for n in range(draw(st.integers(1, 8)))]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    streams(),
    st.randoms(use_true_random=False),
    st.lists(st.integers(0, 20), max_size=6),
    st.sampled_from([None, "2020-01-01"]),
    st.booleans(),
)
def test_any_stream_in_any_order_gives_the_same_incubations_counts_and_findings(
    events, rng, repeats, founded_on, known_on_arrival
):
    expected = state(events, founded_on)
    shuffled = list(events) + [events[r % len(events)] for r in repeats]
    rng.shuffle(shuffled)
    now = state(shuffled, founded_on)
    assert now[:3] == expected[:3]
    assert {n for n, _ in now[3]} == {n for n, _ in expected[3]}  # a repeat is refused again
    # whether the founding date was known on arrival or learnt afterwards, the same count
    later = state(shuffled, founded_on, known_on_arrival)
    assert later[0] == expected[0]
