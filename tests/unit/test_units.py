import pytest

from shared.domain.units import MEIHEKOU, PREFECTURES, UNITS, UnknownRegion, unit_for


def test_twelve_units_receive_alerts():
    assert len(UNITS) == 12


@pytest.mark.parametrize("prefecture", sorted(PREFECTURES))
def test_a_prefecture_and_its_counties_map_to_it(prefecture):
    assert unit_for(prefecture) == prefecture
    assert unit_for(prefecture[:4] + "02") == prefecture


@pytest.mark.parametrize(
    ("code", "zone", "unit"),
    [
        ("220581", None, MEIHEKOU),  # 梅河口 reports directly
        ("220582", None, "220500"),  # 集安 stays with 通化
        ("220184", None, "220100"),  # 公主岭
        ("220381", None, "220100"),  # 公主岭's old code
        ("222401", None, "222400"),  # 延吉
        ("220102", "changchun_new_area", "changchun_new_area"),  # zone first
        ("220621", "changbaishan", "changbaishan"),
        ("220581", "changbaishan", "changbaishan"),
    ],
)
def test_routing_rules(code, zone, unit):
    assert unit_for(code, zone) == unit


@pytest.mark.parametrize(
    ("code", "zone", "message"),
    [
        ("210102", None, "Jilin"),
        ("229901", None, "prefecture"),
        ("2201", None, "6 digits"),
        ("22010A", None, "6 digits"),
        ("220102", "hunchun", "zone"),
    ],
)
def test_unroutable_codes(code, zone, message):
    with pytest.raises(UnknownRegion, match=message):
        unit_for(code, zone)
