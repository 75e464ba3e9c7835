"""The contract's codes and numbers are ASCII, and Python's own tests for digits are wider:
`str.isdigit()` and `int()` also take other scripts' digits (٢, २) and full-width ones (２),
`isdigit()` superscripts and circled digits too (², ①), and a regex `\\d` any decimal digit. A
code written with them would pass as ASCII and be routed or stored as if it were one, so every
check of a code or a number in text goes through here instead."""

from __future__ import annotations

import re
from collections.abc import Iterable

IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # incubator ids, round ids: safe as field names
IDENTIFIER_RULE = "must be 1-64 ASCII letters, digits, _ or -"


def is_digits(text: str) -> bool:
    """Non-empty and only 0-9 (ASCII holds no other character that `isdigit()` takes)."""
    return text.isascii() and text.isdigit()


def is_identifier(text: str) -> bool:
    """The whole text is an identifier (`re.match` would also take a trailing newline)."""
    return IDENTIFIER.fullmatch(text) is not None


def describe(chars: Iterable[str]) -> str:
    """Characters for an error message, each once, those beyond ASCII with their code point (a
    full-width ０ looks like 0 in most fonts)."""
    unique = dict.fromkeys(chars)
    return ", ".join(ch if ch.isascii() else f"{ch!r} (U+{ord(ch):04X})" for ch in unique)
