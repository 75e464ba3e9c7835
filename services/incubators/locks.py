"""Per-key mutual exclusion inside one process.

FerretDB 1.24 (the local MongoDB-protocol server) applies an update as read, modify, write,
without isolation: 20 concurrent `find_one_and_update`s of one document kept as few as 2 of
their changes (measured here). Serialising writes per firm inside the service makes local runs
correct; on MongoDB, where single-document updates are atomic, it only removes contention.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    @contextmanager
    def hold_all(self, keys: Iterable[str]) -> Iterator[None]:
        """Every key's lock, taken in sorted order (so two holders never wait on each other)."""
        with ExitStack() as held:
            for key in sorted(set(keys)):
                held.enter_context(self.hold(key))
            yield
