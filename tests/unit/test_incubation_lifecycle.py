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


def state(events):
    facts, refused = replay(events)
    derived = lifecycle.derive(USCC, facts)
    found = findings.firm_findings(RULES, USCC, derived, None, TODAY)
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


def test_what_no_later_event_could_make_true_is_refused():
    _, refused = replay([admitted("A", 1, "2022-01-10"), admitted("B", 2, "2022-01-10")])
    assert [(n, list(errors)) for n, errors in refused] == [("B-2", ["data.admitted_on"])]
    assert "admitted at A on 2022-01-10 already" in refused[0][1]["data.admitted_on"][0]
    _, refused = replay([admitted("A", 3, "2019-12-31")], founded_on="2020-01-01")
    assert refused[0][1] == {
        "data.admitted_on": ["2019-12-31 is before the firm was founded, on 2020-01-01"]
    }
    _, refused = replay([graduated("A", 4, "2019-06-01")], founded_on="2020-01-01")
    assert "data.graduated_on" in refused[0][1]


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
