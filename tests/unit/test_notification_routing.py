import pytest

from services.notifications.routing import recipients, wants
from shared.domain.units import PROVINCE, UNITS, unit_for

ROUTES = [
    ("220102", None, "220100"),
    ("220184", None, "220100"),
    ("220381", None, "220100"),
    ("220203", None, "220200"),
    ("220322", None, "220300"),
    ("220403", None, "220400"),
    ("220502", None, "220500"),
    ("220581", None, "220581"),
    ("220582", None, "220500"),
    ("220602", None, "220600"),
    ("220721", None, "220700"),
    ("220802", None, "220800"),
    ("222401", None, "222400"),
    ("220621", "changbaishan", "changbaishan"),
    ("220173", "changchun_new_area", "changchun_new_area"),
    ("220581", "changbaishan", "changbaishan"),
]


@pytest.mark.parametrize(("region", "zone", "unit"), ROUTES)
def test_every_unit_is_reached_zones_first_then_meihekou_then_the_prefecture(region, zone, unit):
    event = {"unit": unit_for(region, zone), "from": "none", "to": "gazelle"}
    assert recipients("tier_changed", event) == [unit]


def test_the_routing_table_covers_all_twelve_units():
    assert {unit for _, _, unit in ROUTES} == set(UNITS)


@pytest.mark.parametrize(("old", "new"), [("none", "unicorn"), ("unicorn", "gazelle")])
def test_the_province_hears_of_every_change_to_or_from_unicorn(old, new):
    assert recipients("tier_changed", {"unit": "220200", "from": old, "to": new}) == [
        "220200",
        PROVINCE,
    ]


def test_findings_go_to_the_carriers_unit_only():
    assert recipients("finding", {"unit": "222400"}) == ["222400"]
    assert recipients("finding", {"unit": None}) == []


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        ({}, True),
        ({"kinds": ["finding"]}, False),
        ({"kinds": ["tier_changed"], "tiers": ["gazelle"]}, True),
        ({"tiers": ["unicorn"]}, False),
    ],
)
def test_subscription_filters(subscription, expected):
    alert = {"kind": "tier_changed", "data": {"from": "eaglet", "to": "gazelle"}}
    assert wants(subscription, alert) is expected
