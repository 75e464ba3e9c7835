"""auth's key storage in memory (a KeyRepository), for unit tests of its use cases."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any


class InMemoryKeys:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def add(self, record: dict[str, Any]) -> bool:
        if record["key_id"] in self.records:
            return False
        self.records[record["key_id"]] = copy.deepcopy(record)
        return True

    def find(self, key_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.records.get(key_id))

    def revoke(self, key_id: str, at: datetime) -> bool:
        record = self.records.get(key_id)
        if record is None or record["revoked_at"] is not None:
            return False
        record["revoked_at"] = at
        return True

    def of_owner(self, owner: dict[str, str] | None) -> list[dict[str, Any]]:
        chosen = [
            {k: v for k, v in r.items() if k != "hash"}
            for r in self.records.values()
            if owner is None or (r["kind"], r["subject"]) == (owner["kind"], owner["subject"])
        ]
        return sorted(chosen, key=lambda r: r["created_at"])
