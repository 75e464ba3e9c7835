import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.envelope import InvalidEvent, cloud_event_document, parse_envelope, parse_json
from tests.support.events import cloud_event


def errors_of(document):
    with pytest.raises(InvalidEvent) as caught:
        parse_envelope(document)
    return caught.value.errors


def test_a_valid_event_parses():
    event = parse_envelope(cloud_event("enterprise.registered", {"a": 1}, event_id="e-1"))
    assert (event.id, event.type, event.data) == ("e-1", "enterprise.registered", {"a": 1})
    assert event.time.tzinfo is not None


def test_not_json_names_the_body():
    with pytest.raises(InvalidEvent) as caught:
        parse_json(b"{not json")
    assert "body" in caught.value.errors


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "time", "data"])
def test_each_missing_attribute_is_named(attribute):
    document = cloud_event("enterprise.registered", {})
    del document[attribute]
    assert attribute in errors_of(document)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("specversion", "0.3"),
        ("time", "yesterday"),
        ("time", "2024-01-01T00:00:00"),
        ("data", [1, 2]),
        ("id", ""),
        ("id", 7),
    ],
)
def test_wrong_values_are_named(attribute, value):
    document = cloud_event("enterprise.registered", {})
    document[attribute] = value
    assert attribute in errors_of(document)


def test_a_json_array_is_not_an_event():
    assert "body" in errors_of([cloud_event("x.y", {})])


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    )
)
def test_arbitrary_json_is_accepted_or_rejected_with_field_errors(document):
    try:
        parse_envelope(json.loads(json.dumps(document)))
    except InvalidEvent as exc:
        assert exc.errors and all(isinstance(v, list) for v in exc.errors.values())


def test_the_newer_event_is_the_later_instant_whatever_the_offsets_say():
    def at(time, event_id="e"):
        document = cloud_event("incubator.registered", {}, event_id=event_id)
        return parse_envelope({**document, "time": time})

    # 09:00 in Beijing is 01:00 UTC: earlier than 02:00 UTC, though its text sorts later
    assert at("2025-03-01T09:00:00+08:00").order_key < at("2025-03-01T02:00:00Z").order_key
    assert at("2025-03-01T02:00:00.5Z").order_key > at("2025-03-01T02:00:00Z").order_key
    assert at("2025-03-01T02:00:00Z", "b").order_key > at("2025-03-01T02:00:00Z", "a").order_key


def test_the_one_builder_writes_the_structured_document_the_contract_names():
    beijing = datetime(2025, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    document = cloud_event_document(
        "tracker.alert.tier_changed",
        "/tracker/notifications",
        {"a": 1},
        "e-1",
        beijing,
        subject="220100",
        datacontenttype="application/json",
    )
    assert document == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/tracker/notifications",
        "type": "tracker.alert.tier_changed",
        "time": "2025-03-01T09:00:00+08:00",
        "subject": "220100",
        "datacontenttype": "application/json",
        "data": {"a": 1},
    }
    event = parse_envelope(json.loads(json.dumps(document)))
    assert event.time == beijing and event.to_json() == {
        name: value
        for name, value in document.items()
        if name not in ("subject", "datacontenttype")
    }


def test_the_builder_makes_a_new_id_and_the_current_time_unless_given():
    before = datetime.now(UTC)
    first, second = (cloud_event_document("incubator.registered", "/op", {}) for _ in range(2))
    assert first["id"] != second["id"]
    assert before <= parse_envelope(first).time <= datetime.now(UTC)
    assert cloud_event_document("x", "/op", {}, time="2025-01-01T00:00:00Z")["time"] == (
        "2025-01-01T00:00:00Z"  # text is kept as given
    )
