"""统一社会信用代码 (USCC, GB 32100-2015): normalisation and check-character validation.

Some real codes fail the check. An administrator approves each one in `USCC_OVERRIDES` (who,
when and why; DOMAIN.md asks for an audited override, not a silent accept): it is accepted
from then on, and every acceptance is logged with that approval.
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from shared.domain import codes

log = logging.getLogger(__name__)

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUES = {char: value for value, char in enumerate(ALPHABET)}


class InvalidUscc(ValueError):
    """The code is not a well-formed USCC; the message says why."""


def _normalisation() -> dict[int, str | None]:
    """DOMAIN.md's steps as one translation table: full-width forms (U+FF01-FF5E) to ASCII,
    spaces (the ideographic one too) and hyphens dropped, a-z upper-cased."""
    table: dict[int, str | None] = {ord(ch): ch.upper() for ch in string.ascii_lowercase}
    table |= {code: chr(code - 0xFEE0).upper() for code in range(0xFF01, 0xFF5F)}
    table |= dict.fromkeys(map(ord, " \t-\u3000\uff0d"), None)
    return table


_NORMALISATION = _normalisation()


def normalise(raw: str) -> str:
    """Strip spaces and hyphens, fold full-width characters to half-width, upper-case: these
    steps only. NFKC would also fold ², ① or ﬂ into code characters, and `str.upper()` turns ﬂ
    into FL; any other character stays as it is, for `well_formed` to refuse."""
    return raw.translate(_NORMALISATION)


class InvalidOverrides(ValueError):
    """`USCC_OVERRIDES` cannot be used; the message names the entry and the field."""


@dataclass(frozen=True)
class Override:
    uscc: str
    reason: str
    approved_by: str
    approved_on: str


OVERRIDE_FIELDS = ("uscc", "reason", "approved_by", "approved_on")
_approved: dict[str, Override] = {}


def parse_overrides(setting: Any) -> dict[str, Override]:
    """A list of {uscc, reason, approved_by, approved_on} (or its YAML text), every field
    given; each code well-formed but failing the check, since a valid code needs none."""
    try:
        entries = yaml.safe_load(setting) if isinstance(setting, str) else setting
    except yaml.YAMLError as exc:
        raise InvalidOverrides(f"USCC_OVERRIDES: not YAML ({exc})") from None
    if not entries:
        return {}
    if not isinstance(entries, list):
        raise InvalidOverrides("USCC_OVERRIDES: must be a list of approvals")
    approved = {}
    for index, entry in enumerate(entries):
        where = f"USCC_OVERRIDES[{index}]"
        if not isinstance(entry, dict):
            raise InvalidOverrides(f"{where}: must be a mapping of {', '.join(OVERRIDE_FIELDS)}")
        missing = [f for f in OVERRIDE_FIELDS if not str(entry.get(f) or "").strip()]
        if missing:
            raise InvalidOverrides(f"{where}: {', '.join(missing)} missing")
        try:
            code = well_formed(str(entry["uscc"]))
        except InvalidUscc as exc:
            raise InvalidOverrides(f"{where}.uscc: {exc}") from None
        if code[17] == check_character(code[:17]):
            raise InvalidOverrides(f"{where}.uscc: {code} passes the check; remove the override")
        try:
            approved_on = date.fromisoformat(str(entry["approved_on"])).isoformat()
        except ValueError:
            raise InvalidOverrides(f"{where}.approved_on: not a YYYY-MM-DD date") from None
        approved[code] = Override(code, entry["reason"], entry["approved_by"], approved_on)
    return approved


def install_overrides(approved: dict[str, Override]) -> None:
    """The approvals this process accepts (set once at start-up, from the service's config)."""
    _approved.clear()
    _approved.update(approved)


def check_character(first17: str) -> str:
    """The 18th character that the first 17 demand."""
    total = sum(_VALUES[ch] * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def well_formed(raw: str) -> str:
    """The normalised code if its characters and length are a USCC's (the check aside). The
    characters first: a lookalike such as ﬂ (for FL) also changes the length, and the character
    is what the sender has to fix."""
    code = normalise(raw)
    bad = sorted({ch for ch in code if ch not in _VALUES})
    if bad:
        raise InvalidUscc(f"characters not allowed in a USCC: {codes.describe(bad)}")
    if len(code) != LENGTH:
        raise InvalidUscc(f"must be {LENGTH} characters, got {len(code)}")
    return code


def validate(raw: str) -> str:
    """Return the normalised code, or raise InvalidUscc naming the problem."""
    code = well_formed(raw)
    expected = check_character(code[:17])
    if code[17] != expected:
        override = _approved.get(code)
        if override is None:
            raise InvalidUscc(f"check character is {code[17]!r}, expected {expected!r}")
        log.info(
            "USCC %s fails the check, accepted by the override approved by %s on %s: %s",
            code,
            override.approved_by,
            override.approved_on,
            override.reason,
        )
    return code


def make(first17: str) -> str:
    """A valid code from its first 17 characters (for generators and tests)."""
    return first17 + check_character(first17)
