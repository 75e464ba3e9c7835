from datetime import UTC, date, datetime

import pytest

from services.incubators import lifecycle
from services.incubators.schemas import FirmAdmitted, FirmExited, FirmGraduated
from shared.dates import add_months
from shared.envelope import load_data, parse_envelope
from tests.support.events import admission, cloud_event, graduation, jilin_uscc

CODE = jilin_uscc(42)
SCHEMAS = {
    "incubator.firm_admitted": FirmAdmitted(),
    "incubator.firm_graduated": FirmGraduated(),
    "incubator.firm_exited": FirmExited(),
}


def event(event_type, data, event_id=None):
    raw = cloud_event(event_type, data, event_id=event_id, time=datetime(2025, 1, 1, tzinfo=UTC))
    return load_data(parse_envelope(raw), SCHEMAS[event_type])


def admitted(incubator="A", on="2024-03-01", **extra):
    return lifecycle.admit(
        [], event("incubator.firm_admitted", admission(incubator, CODE, on, **extra))
    )


def test_admission_opens_an_incubation_with_its_limit():
    assert admitted()["state"] == "open" and admitted()["limit_months"] == 48
    assert admitted(track="ic_design")["limit_months"] == 60


def test_a_second_open_admission_is_refused_with_the_reason():
    with pytest.raises(lifecycle.Refused) as refused:
        lifecycle.admit([admitted("A")], event("incubator.firm_admitted", admission("B", CODE)))
    assert "already incubated by A" in refused.value.errors["data.uscc"][0]


def test_the_same_admission_event_again_is_not_a_second_admission():
    first = event("incubator.firm_admitted", admission("A", CODE), event_id="adm-1")
    incubation = lifecycle.admit([], first)
    assert lifecycle.admit([incubation], first) == incubation


def test_graduation_closes_and_needs_an_open_admission_at_that_carrier():
    done = lifecycle.graduate(
        [admitted("A")], event("incubator.firm_graduated", graduation("A", CODE))
    )
    assert (done["state"], done["ended_on"], done["basis"]) == (
        "graduated",
        "2025-05-01",
        "high_tech",
    )
    with pytest.raises(lifecycle.Refused) as refused:
        lifecycle.graduate(
            [admitted("B")], event("incubator.firm_graduated", graduation("A", CODE))
        )
    assert "no open admission at A; it is incubated by B" in refused.value.errors["data.uscc"][0]


def test_an_end_with_no_open_incubation_waits_for_its_admission():
    """Not refused: an admission posted in the same batch may still be on its way."""
    done = lifecycle.graduate(
        [admitted("A")], event("incubator.firm_graduated", graduation("A", CODE))
    )
    for history in ([], [done]):
        with pytest.raises(lifecycle.AdmissionPending, match="no open admission at A"):
            lifecycle.graduate(history, event("incubator.firm_graduated", graduation("A", CODE)))


def test_dates_that_run_backwards_are_refused():
    with pytest.raises(lifecycle.Refused) as refused:
        lifecycle.graduate(
            [admitted(on="2024-03-01")],
            event("incubator.firm_graduated", graduation("A", CODE, graduated_on="2024-02-01")),
        )
    assert "before the admission" in refused.value.errors["data.graduated_on"][0]
    ended = lifecycle.exit_(
        [admitted(on="2023-01-01")],
        event(
            "incubator.firm_exited",
            {"incubator_id": "A", "uscc": CODE, "exited_on": "2024-01-01", "reason": "moved"},
        ),
    )
    with pytest.raises(lifecycle.Refused) as refused:
        lifecycle.admit(
            [ended], event("incubator.firm_admitted", admission("B", CODE, "2023-06-01"))
        )
    assert "previous incubation" in refused.value.errors["data.admitted_on"][0]
    again = lifecycle.admit(
        [ended], event("incubator.firm_admitted", admission("B", CODE, "2024-02-01"))
    )
    assert again["incubator_id"] == "B"


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2020, 3, 15), 48, date(2024, 3, 15)),
        (date(2020, 11, 30), 3, date(2021, 2, 28)),
    ],
)
def test_month_arithmetic(start, months, end):
    assert add_months(start, months) == end


def test_a_readmission_on_the_day_the_last_incubation_ended_is_a_record_of_its_own():
    first = admitted("A")
    exit_data = {"incubator_id": "A", "uscc": CODE, "exited_on": first["admitted_on"]}
    ended = lifecycle.exit_([first], event("incubator.firm_exited", exit_data | {"reason": "x"}))
    again = event("incubator.firm_admitted", admission("A", CODE), event_id="adm-2")
    second = lifecycle.admit([ended], again)
    assert second["incubation_id"] == f"{first['incubation_id']}:2"
    assert lifecycle.admit([ended, second], again) == second  # the same event again
