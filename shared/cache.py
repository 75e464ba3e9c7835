"""A small in-process cache whose entries expire (answers of other services, computed counts)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MAX_ENTRIES = 10_000


class TtlCache:
    """A bounded map whose entries expire; each entry has its own lifetime."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES):
        self.clock, self.max_entries = clock, max_entries
        self.entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> tuple[bool, Any]:
        found = self.entries.get(key)
        if found is None or found[0] <= self.clock():
            self.entries.pop(key, None)
            return False, None
        return True, found[1]

    def put(self, key: Any, value: Any, seconds: float) -> None:
        self.entries.pop(key, None)
        self.entries[key] = (self.clock() + seconds, value)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)
