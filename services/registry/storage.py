"""MongoDB storage of enterprise records, behind a nameko DependencyProvider.

A record is one document per firm whose parts (profile, reports by year, funding rounds by id,
status fields) are each replaced only by a part with a greater-or-equal `order_key`, in one
atomic update that also bumps the record's `version`. Equal keys re-apply (the same event again),
so a handler that died before dispatching can redo it.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.locks import KeyedLocks
from shared.mongo import Repository, RepositoryProvider

MAX_PAGE = 500


def nest(path: str, value: Any) -> dict[str, Any]:
    """`nest("reports.2023", v)` is `{"reports": {"2023": v}}`: inserts take no dotted paths."""
    head, _, rest = path.partition(".")
    return {head: nest(rest, value) if rest else value}


class Enterprises(Repository):
    def __init__(self, db: Any):
        super().__init__(db)
        self.locks = KeyedLocks()  # one writer per firm at a time: see shared/locks.py

    @property
    def collection(self):  # type: ignore[no-untyped-def]
        return self.db["enterprises"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("profile.unit", ASCENDING), ("uscc", ASCENDING)])
        self.collection.create_index([("profile.industry", ASCENDING), ("uscc", ASCENDING)])

    def put_part(
        self, uscc: str, path: str, part: dict[str, Any], key: str
    ) -> dict[str, Any] | None:
        """Set `path` to `part` unless a newer part is stored; the record after, or None."""
        where = {
            "_id": uscc,
            "$or": [
                {f"{path}.order_key": {"$exists": False}},
                {f"{path}.order_key": {"$lte": key}},
            ],
        }
        change = {"$set": {path: {**part, "order_key": key}}, "$inc": {"version": 1}}
        with self.locks.hold(uscc):
            return self._put(uscc, path, part, key, where, change)

    def _put(
        self,
        uscc: str,
        path: str,
        part: dict[str, Any],
        key: str,
        where: dict[str, Any],
        change: dict[str, Any],
    ) -> dict[str, Any] | None:
        record = self.collection.find_one_and_update(
            where, change, return_document=ReturnDocument.AFTER
        )
        if record is None:
            record = {
                "_id": uscc,
                "uscc": uscc,
                "version": 1,
                **nest(path, {**part, "order_key": key}),
            }
            try:
                self.collection.insert_one(record)
            except DuplicateKeyError:
                # The firm exists, perhaps created a moment ago by a concurrent event: a
                # second conditional update tells a newer stored part from that race.
                record = self.collection.find_one_and_update(
                    where, change, return_document=ReturnDocument.AFTER
                )
                if record is None:
                    return None  # the stored part is newer
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
