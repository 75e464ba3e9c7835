"""The one source of "now", so tests can move time (sweeps, "not in the future" checks)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()
