"""The CloudEvents HTTP binding on the way in: a request of any content mode becomes the
structured documents that one validation checks (issue #17, item 7)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.incubators.binding import header_value, read_events
from shared.http import Problem

ATTRIBUTES = {
    "ce-specversion": "1.0",
    "ce-id": "e-1",
    "ce-source": "/incubators/JL-INC-0001",
    "ce-type": "incubator.firm_admitted",
    "ce-time": "2025-01-01T00:00:00+08:00",
}
DATA = {"incubator_id": "JL-INC-0001", "uscc": "912201010000000010", "admitted_on": "2024-03-01"}


def request(headers, body=b""):
    return Request(EnvironBuilder(method="POST", headers=headers, data=body).get_environ())


def refused(headers, body=b""):
    with pytest.raises(Problem) as caught:
        read_events(request(headers, body), max_batch=2)
    return caught.value


def test_a_binary_request_is_the_structured_document_of_its_event():
    posted = read_events(
        request({**ATTRIBUTES, "Content-Type": "application/json"}, json.dumps(DATA).encode()), 2
    )
    assert posted.binary
    assert posted.documents == [
        {
            "specversion": "1.0",
            "id": "e-1",
            "source": "/incubators/JL-INC-0001",
            "type": "incubator.firm_admitted",
            "time": "2025-01-01T00:00:00+08:00",
            "datacontenttype": "application/json",
            "data": DATA,
        }
    ]
    assert [posted.field(name) for name in ("id", "time", "data", "data.uscc")] == [
        "ce-id",
        "ce-time",
        "data",
        "data.uscc",
    ]


def test_structured_and_batched_requests_keep_their_documents_and_field_names():
    event = {"specversion": "1.0", "id": "e-1", "data": DATA}
    body = json.dumps(event).encode()
    single = read_events(request({"Content-Type": "application/cloudevents+json"}, body), 2)
    assert single.documents == [event] and single.field("id") == "id"
    batch_type = {"Content-Type": "application/cloudevents-batch+json; charset=utf-8"}
    assert read_events(request(batch_type, json.dumps([event]).encode()), 2).documents == [event]
    assert refused(batch_type, json.dumps([event] * 3).encode()).status == 413


def percent_encoded(value, hex_format):
    """As the binding says senders encode: space, '"', '%' and all beyond printable ASCII."""
    return "".join(
        ch
        if "!" <= ch <= "~" and ch not in '"%'
        else "".join(f"%{byte:{hex_format}}" for byte in ch.encode())
        for ch in value
    )


@given(st.text(min_size=1, max_size=40))
def test_any_attribute_value_survives_the_bindings_percent_encoding(value):
    upper, lower = percent_encoded(value, "02X"), percent_encoded(value, "02x")
    assert header_value(upper) == header_value(lower) == value


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ('"quoted \\"as before\\""', 'quoted "as before"'),  # older senders, RFC 7230 quoting
        ("Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro € 😀"),  # the binding's own example
        ("100%", "100%"),  # not a percent-encoding: kept
    ],
)
def test_header_values_are_decoded_as_the_binding_says(raw, value):
    assert header_value(raw) == value


@pytest.mark.parametrize(
    ("headers", "status", "named"),
    [
        ({"ce-id": "%C0%A0"}, 400, "ce-id"),  # an overlong UTF-8 encoding of a space
        ({"ce-id": "%FF"}, 400, "ce-id"),
        ({"ce-subject": "长春"}, 400, "ce-subject"),  # raw, not percent-encoded
        ({"ce-datacontenttype": "application/json"}, 400, "ce-datacontenttype"),
        ({"ce-data": "{}"}, 400, "ce-data"),
        ({"ce-not-an-attribute": "x"}, 400, "ce-not-an-attribute"),
        ({"Content-Type": "text/plain"}, 415, None),
        ({"Content-Type": "application/cloudevents+avro"}, 415, None),
        ({"Content-Type": "application/cloudevents-batch+xml"}, 415, None),
    ],
)
def test_what_binary_mode_cannot_take_is_refused_naming_the_header(headers, status, named):
    problem = refused({**ATTRIBUTES, **headers}, json.dumps(DATA).encode())
    assert problem.status == status
    if named:
        assert set(problem.errors) == {named}


def test_a_request_in_no_mode_at_all_is_a_415():
    problem = refused({"Content-Type": "text/plain"}, b"hello")
    assert problem.status == 415 and "binary mode" in problem.detail
