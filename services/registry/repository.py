"""What registry's use cases (handlers.py) need of storage: firms' records, read and changed a
batch at a time. `storage.Enterprises` keeps them in MongoDB; tests/support/fakes/registry.py
keeps them in memory for the use cases' unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from services.registry.records import Record

# A firm's new record from its stored one (None: not stored yet); None when nothing is to be
# written.
RecordChange = Callable[[str, Record | None], Record | None]


class EnterpriseRepository(Protocol):
    def read(self, usccs: Iterable[str]) -> dict[str, Record]:
        """The stored records of these firms by USCC (unknown firms left out), in one query."""
        ...

    def update(self, usccs: Iterable[str], change: RecordChange) -> set[str]:
        """Read these firms' records together, `change` each, write them together. A write
        lands only on the record it was computed from (shared/versioned.py): a firm another
        process wrote meanwhile is read and changed again. Returns the firms whose writes kept
        losing."""
        ...
