"""Property tests of every ingress event schema: whatever arrives is either accepted as valid
data that is safe to store, or refused with field errors; never an exception."""

import json
import math

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from services.incubators.schemas import EVENT_SCHEMAS as INCUBATOR_SCHEMAS
from services.registry.schemas import EVENT_SCHEMAS as REGISTRY_SCHEMAS
from shared.domain.fields import MAX_COUNT, MAX_TEXT
from shared.envelope import InvalidEvent, load_data, parse_envelope, parse_json
from tests.support import events as build

CODE = build.jilin_uscc(11)
INC = "JL-INC-0001"
SCHEMAS = {
    **REGISTRY_SCHEMAS,
    **INCUBATOR_SCHEMAS,
}
VALID = {
    "enterprise.registered": build.registration(CODE),
    "enterprise.annual_report": build.annual_report(CODE, 2023),
    "enterprise.funding_round": build.funding_round(CODE),
    "enterprise.status_changed": build.status_change(CODE, listing="neeq", active=False),
    "incubator.registered": build.incubator(INC),
    "incubator.firm_admitted": build.admission(INC, CODE, track="ic_design"),
    "incubator.firm_graduated": build.graduation(INC, CODE),
    "incubator.firm_exited": {
        "incubator_id": INC,
        "uscc": CODE,
        "exited_on": "2024-01-01",
        "reason": "relocated",
    },
    "incubator.annual_report": build.carrier_report(INC),
}
CROSS_FIELD = {("incubator.annual_report", "area_m2"): "data.incubatee_area_m2"}
MAX_INT64 = 2**63 - 1
OPERATOR_KEYS = st.sampled_from(["$where", "$gt", "a.b", "profile.name", "$set", "__proto__"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(max_size=30)
    | st.text(min_size=MAX_TEXT - 2, max_size=MAX_TEXT + 40)
    | st.sampled_from(["", " ", "2024-02-30", "2999-01-01", CODE, CODE.lower(), "1e309"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6) | OPERATOR_KEYS, inner, max_size=3)
    ),
    max_leaves=8,
)


def validate(document):
    """The checks every ingress path applies: the envelope, then the data schema of its type."""
    event = parse_envelope(document)
    schema = SCHEMAS.get(event.type)
    if schema is None:
        raise InvalidEvent({"type": ["unknown"]})
    return load_data(event, schema())


def assert_safe_to_store(value, schema_fields=None):
    """No operator-like keys, no string beyond the text limit, no integer beyond int64."""
    if isinstance(value, dict):
        if schema_fields is not None:
            assert set(value) <= schema_fields
        for key, item in value.items():
            assert not key.startswith("$") and "." not in key, key
            assert_safe_to_store(item)
    elif isinstance(value, list):
        for item in value:
            assert_safe_to_store(item)
    elif isinstance(value, str):
        assert len(value) <= MAX_TEXT
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        assert abs(value) <= MAX_INT64
    elif isinstance(value, float):
        assert math.isfinite(value)


def check(document):
    """Accepted and safe, or refused with a non-empty list of messages per field."""
    try:
        event = validate(json.loads(json.dumps(document)))
    except InvalidEvent as exc:
        assert exc.errors
        for field, messages in exc.errors.items():
            assert isinstance(field, str) and field
            assert messages and all(isinstance(m, str) and m for m in messages)
        return None
    assert_safe_to_store(event.data, set(SCHEMAS[event.type]().fields))
    return event


def envelope(event_type, data):
    return build.cloud_event(event_type, data, event_id="e-1")


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_the_valid_example_of_each_type_is_accepted(event_type):
    assert check(envelope(event_type, VALID[event_type])) is not None


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.text(max_size=12) | OPERATOR_KEYS, JSON, max_size=6))
def test_arbitrary_data_is_accepted_or_refused_by_field(event_type, data):
    check(envelope(event_type, data))


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(choice=st.data(), value=JSON)
def test_one_field_changed_to_anything_is_accepted_or_refused_by_that_field(
    event_type, choice, value
):
    data = dict(VALID[event_type])
    field = choice.draw(st.sampled_from(sorted(data)), label="field")
    data[field] = value
    event = check(envelope(event_type, data))
    if event is None:
        with pytest.raises(InvalidEvent) as caught:
            validate(json.loads(json.dumps(envelope(event_type, data))))
        named = (f"data.{field}", CROSS_FIELD.get((event_type, field), f"data.{field}"))
        assert any(key.startswith(named) for key in caught.value.errors), caught.value.errors


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
@given(key=OPERATOR_KEYS | st.text(min_size=1, max_size=10), value=JSON)
def test_a_field_the_contract_does_not_define_is_refused_by_name(event_type, key, value):
    data = dict(VALID[event_type])
    assume(key not in data)
    data[key] = value
    with pytest.raises(InvalidEvent) as caught:
        validate(envelope(event_type, data))
    assert f"data.{key}" in caught.value.errors


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_objects_where_strings_belong_are_refused(event_type):
    data = VALID[event_type]
    for field, value in data.items():
        if isinstance(value, str):
            for injected in ({"$ne": None}, {"$gt": ""}, [value], {"a.b": value}):
                with pytest.raises(InvalidEvent) as caught:
                    validate(envelope(event_type, {**data, field: injected}))
                assert f"data.{field}" in caught.value.errors, (field, injected)


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_overlong_strings_are_refused(event_type):
    data = VALID[event_type]
    for field, value in data.items():
        if isinstance(value, str):
            with pytest.raises(InvalidEvent) as caught:
                validate(envelope(event_type, {**data, field: value + "x" * MAX_TEXT}))
            assert f"data.{field}" in caught.value.errors


def test_counts_beyond_what_the_database_stores_exactly_are_refused():
    report = {**VALID["enterprise.annual_report"], "employees": MAX_COUNT + 1}
    with pytest.raises(InvalidEvent) as caught:
        validate(envelope("enterprise.annual_report", report))
    assert "data.employees" in caught.value.errors


@settings(max_examples=300)
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
@example(body=b"[" * 100_000)
@example(body=b'{"a":' * 50_000)
@example(body=b"1" * 5000)
@example(body=b"\xff\xfe")
@example(body=b"NaN")
def test_any_message_body_is_parsed_or_refused_as_the_body(body):
    try:
        validate(parse_json(body))
    except InvalidEvent as exc:
        assert exc.errors
