from datetime import timedelta

import pytest

from services.registry.schemas import EnterpriseRegistered
from shared import clock
from shared.envelope import InvalidEvent, load_data, parse_envelope
from tests.support.events import cloud_event, registration


def load(data):
    return load_data(
        parse_envelope(cloud_event("enterprise.registered", data)), EnterpriseRegistered()
    ).data


def rejection(data):
    with pytest.raises(InvalidEvent) as caught:
        load(data)
    return caught.value.errors


def test_defaults_and_normalisation():
    code = registration()["uscc"]
    data = load(registration(uscc=code.lower()))
    assert data["uscc"] == code
    assert (data["entity_kind"], data["listing"], data["zone"]) == ("independent", "unlisted", None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uscc": "91220101000000001X"}, "data.uscc"),
        ({"uscc": 12345}, "data.uscc"),
        ({"region_code": "110101"}, "data.region_code"),
        ({"region_code": "22010"}, "data.region_code"),
        ({"zone": "somewhere"}, "data.zone"),
        ({"entity_kind": "subsidiary"}, "data.entity_kind"),
        ({"listing": "nasdaq"}, "data.listing"),
        ({"founded_on": "2019-02-30"}, "data.founded_on"),
        ({"founded_on": 2019}, "data.founded_on"),
        ({"name": "   "}, "data.name"),
        ({"name": "x" * 201}, "data.name"),
        ({"$where": "1"}, "data.$where"),
    ],
)
def test_each_bad_field_is_named(overrides, field):
    assert field in rejection({**registration(), **overrides})


@pytest.mark.parametrize("field", ["uscc", "name", "region_code", "industry", "founded_on"])
def test_required_fields(field):
    data = registration()
    del data[field]
    assert f"data.{field}" in rejection(data)


def test_founding_date_in_the_future_is_rejected():
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    errors = rejection(registration(founded_on=tomorrow))
    assert "in the future" in errors["data.founded_on"][0]
