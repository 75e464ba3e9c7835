"""Durations in rules, scaled for tests: production rules use `Timescale(1)`; the test that
proves the alerts fire renders them with `Timescale(60)`, so 5m becomes 5s and a threshold of
3600 seconds becomes 60, while every expression keeps its shape."""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"^(\d+)([smhd])$")


def seconds_of(duration: str) -> int:
    match = DURATION.match(duration)
    if match is None:
        raise ValueError(f"not a duration like 30s, 5m, 1h or 3d: {duration!r}")
    return int(match.group(1)) * UNITS[match.group(2)]


def text_of(seconds: int) -> str:
    """The shortest Prometheus duration for a whole number of seconds."""
    for unit in ("d", "h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Timescale:
    """`factor` times faster than real time (1: production)."""

    factor: int = 1

    def __post_init__(self) -> None:
        if self.factor < 1:
            raise ValueError("a timescale speeds time up: factor >= 1")

    def seconds(self, value: float) -> int:
        """A threshold or window in seconds, scaled (never below one second)."""
        return max(1, round(value / self.factor))

    def duration(self, duration: str) -> str:
        """A Prometheus duration (`[15m]`, `for: 5m`), scaled."""
        return text_of(self.seconds(seconds_of(duration)))


PRODUCTION = Timescale(1)
