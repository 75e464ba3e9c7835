"""Delivery attempts: exponential back-off with jitter, bounded in number. No I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    first_delay_seconds: float = 30
    max_delay_seconds: float = 3600
    timeout_seconds: float = 10

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RetryPolicy:
        return cls(
            **{
                k: config[k]
                for k in (
                    "max_attempts",
                    "first_delay_seconds",
                    "max_delay_seconds",
                    "timeout_seconds",
                )
                if k in config
            }
        )

    def next_attempt(
        self, attempts: int, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after `attempts` failures; None when that was the last."""
        if attempts >= self.max_attempts:
            return None
        ceiling = min(self.first_delay_seconds * 2 ** (attempts - 1), self.max_delay_seconds)
        jittered = ceiling * (0.5 + (rng or random).random() / 2)  # "equal jitter"
        return now + timedelta(seconds=jittered)

    def longest_schedule_seconds(self) -> float:
        return sum(
            min(self.first_delay_seconds * 2 ** (n - 1), self.max_delay_seconds)
            for n in range(1, self.max_attempts)
        )


def pending_delivery(
    alert: dict[str, Any], subscription: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """A new delivery of `alert` to `subscription`, due now; its id names both, so the same
    pair stored twice is one delivery."""
    return {
        "delivery_id": f"{alert['alert_id']}|{subscription['sub_id']}",
        "alert_id": alert["alert_id"],
        "sub_id": subscription["sub_id"],
        "channel": subscription["channel"],
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
    }
