"""MongoDB storage of enterprise records, behind a nameko DependencyProvider.

A record is one document per firm whose parts (profile, reports by year, funding rounds by id,
status fields) are each replaced only by a part with a greater-or-equal `order_key`, in one
atomic update that also bumps the record's `version`. Equal keys re-apply (the same event again),
so a handler that died before dispatching can redo it.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from shared.coalesce import Lookups, Writes
from shared.locks import KeyedLocks
from shared.mongo import Repository, RepositoryProvider

MAX_PAGE = 500


def nest(path: str, value: Any) -> dict[str, Any]:
    """`nest("reports.2023", v)` is `{"reports": {"2023": v}}`: inserts take no dotted paths."""
    head, _, rest = path.partition(".")
    return {head: nest(rest, value) if rest else value}


def stored_key(record: dict[str, Any], path: str) -> str | None:
    """The `order_key` of the part at `path` (dotted) in a stored record."""
    part: Any = record
    for name in path.split("."):
        part = part.get(name) if isinstance(part, dict) else None
    return part.get("order_key") if isinstance(part, dict) else None


class Enterprises(Repository):
    def __init__(self, db: Any):
        super().__init__(db)
        self.locks = KeyedLocks()  # one writer per firm at a time: see shared/locks.py
        self.writes = Writes(self.collection)
        self.records = Lookups(self.collection)

    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.db["enterprises"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("profile.unit", ASCENDING), ("uscc", ASCENDING)])
        self.collection.create_index([("profile.industry", ASCENDING), ("uscc", ASCENDING)])

    def put_part(
        self, uscc: str, path: str, part: dict[str, Any], key: str
    ) -> dict[str, Any] | None:
        """Set `path` to `part` unless a newer part is stored; the record after, or None.

        An update guarded by the part's key, or an insert for a new firm, group-committed with
        other workers' (shared/coalesce.py); the record is then read back under the firm's
        lock, and its part's key tells whether ours is stored or a newer one."""
        where = {
            "_id": uscc,
            "$or": [
                {f"{path}.order_key": {"$exists": False}},
                {f"{path}.order_key": {"$lte": key}},
            ],
        }
        change = {"$set": {path: {**part, "order_key": key}}, "$inc": {"version": 1}}
        with self.locks.hold(uscc):
            for _ in range(2):
                self.writes(UpdateOne(where, change))
                record = self.records(uscc)
                if record is not None:
                    break
                created = {"uscc": uscc, "version": 1, **nest(path, {**part, "order_key": key})}
                try:
                    self.writes(InsertOne({"_id": uscc, **created}))
                    return created
                except DuplicateKeyError:
                    continue  # created a moment ago by another process: the update decides
        if record is None or stored_key(record, path) != key:
            return None  # a newer part is stored
        record.pop("_id", None)
        return record

    def get(self, uscc: str) -> dict[str, Any] | None:
        return self.collection.find_one({"_id": uscc}, {"_id": False})

    def page(self, filters: dict[str, Any], after: str | None, limit: int) -> list[dict[str, Any]]:
        """Records in USCC order, starting after the USCC `after` (keyset pagination)."""
        query: dict[str, Any] = dict(filters)
        if after:
            query["uscc"] = {"$gt": after}
        cursor = self.collection.find(query, {"_id": False}).sort("uscc", ASCENDING)
        return list(cursor.limit(min(limit, MAX_PAGE)))


class EnterpriseStore(RepositoryProvider):
    repository_class = Enterprises
