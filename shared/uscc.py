"""统一社会信用代码 (USCC, GB 32100-2015): normalisation and check-character validation."""

from __future__ import annotations

import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUES = {char: value for value, char in enumerate(ALPHABET)}


class InvalidUscc(ValueError):
    """The code is not a well-formed USCC; the message says why."""


def normalise(raw: str) -> str:
    """Strip spaces and hyphens, fold full-width characters to half-width, upper-case."""
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in folded if ch not in " -\t\u3000").upper()


def check_character(first17: str) -> str:
    """The 18th character that the first 17 demand."""
    total = sum(_VALUES[ch] * weight for ch, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code, or raise InvalidUscc naming the problem."""
    code = normalise(raw)
    if len(code) != LENGTH:
        raise InvalidUscc(f"must be {LENGTH} characters, got {len(code)}")
    bad = sorted({ch for ch in code if ch not in _VALUES})
    if bad:
        raise InvalidUscc(f"characters not allowed in a USCC: {''.join(bad)}")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidUscc(f"check character is {code[17]!r}, expected {expected!r}")
    return code


def make(first17: str) -> str:
    """A valid code from its first 17 characters (for generators and tests)."""
    return first17 + check_character(first17)
