"""Per-key rate limits: a token bucket for each API key, kept in the memory of each service
process. So the limit holds per process: N replicas of a service admit up to N times the rate."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.http import Problem
from shared.injection import Injects

MAX_KEYS = 10_000  # buckets kept; the least recently used is forgotten (it refills anyway)


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`per_second` requests per key on average, `burst` at once; `per_second` 0 is no limit."""

    def __init__(
        self,
        per_second: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ):
        if per_second < 0 or (per_second > 0 and burst < 1):
            raise ValueError("per_second must be >= 0 and burst >= 1")
        self.per_second, self.burst, self.clock, self.max_keys = per_second, burst, clock, max_keys
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Take a token for the key: 0 when admitted, else the seconds until one is there."""
        if self.per_second == 0:
            return 0.0
        now = self.clock()
        bucket = self.buckets.pop(key, None) or Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        self.buckets[key] = bucket
        if len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.per_second


def too_many_requests(wait_seconds: float) -> Problem:
    retry_after = max(1, math.ceil(wait_seconds))
    return Problem(
        429,
        "Too Many Requests",
        f"this key's request rate is limited; retry after {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


class RateLimit(Injects[RateLimiter]):
    """Injects a `RateLimiter` configured by `config_key` (`per_second`, `burst`)."""

    def __init__(self, config_key: str):
        self.config_key = config_key

    def setup(self) -> None:
        settings = self.container.config.get(self.config_key) or {}
        per_second = float(settings.get("per_second", 0))
        self.limiter = RateLimiter(per_second, float(settings.get("burst", per_second)))

    def get_dependency(self, worker_ctx: Any) -> RateLimiter:
        return self.limiter


def admit(limiter: RateLimiter, key: str) -> None:
    """Take a token for the key, or raise a 429 problem with `Retry-After`."""
    wait = limiter.take(key)
    if wait:
        raise too_many_requests(wait)
