"""The 12 city units that receive alerts, and how a firm's region code and zone map to one."""

from __future__ import annotations

from shared.domain import codes

PROVINCE = "220000"

PREFECTURES = {
    "220100": "长春市",
    "220200": "吉林市",
    "220300": "四平市",
    "220400": "辽源市",
    "220500": "通化市",
    "220600": "白山市",
    "220700": "松原市",
    "220800": "白城市",
    "222400": "延边朝鲜族自治州",
}
MEIHEKOU = "220581"
ZONES = {"changbaishan": "长白山管委会", "changchun_new_area": "长春新区"}
UNITS = {**PREFECTURES, MEIHEKOU: "梅河口市", **ZONES}
WITH_PROVINCE = sorted([*UNITS, PROVINCE])  # every code a query or an inbox may name

# County codes retired from GB/T 2260 that still appear in registrations.
LEGACY_CODES = {"220381": "220184"}  # 公主岭, moved from 四平 to 长春


class UnknownRegion(ValueError):
    """The region code is not a Jilin code this system can route."""


def unit_for(region_code: str, zone: str | None = None) -> str:
    """Zones first, then 梅河口, then the prefecture (first four digits + "00")."""
    if zone:
        if zone not in ZONES:
            raise UnknownRegion(f"unknown zone {zone!r}; expected one of {sorted(ZONES)}")
        return zone
    if len(region_code) != 6 or not codes.is_digits(region_code):
        bad = codes.describe(ch for ch in region_code if not codes.is_digits(ch))
        raise UnknownRegion("must be 6 digits 0-9" + (f", not {bad}" if bad else ""))
    if not region_code.startswith("22"):
        raise UnknownRegion("not a Jilin code (must start with 22)")
    code = LEGACY_CODES.get(region_code, region_code)
    if code == MEIHEKOU:
        return MEIHEKOU
    prefecture = code[:4] + "00"
    if prefecture not in PREFECTURES:
        raise UnknownRegion(f"no Jilin prefecture {prefecture}")
    return prefecture
