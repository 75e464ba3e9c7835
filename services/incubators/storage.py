"""MongoDB storage of the incubators service: carriers and their reports, incubations, the
firms' registry snapshots, findings, and the ids the HTTP API has accepted."""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from services.incubators.lifecycle import Incubation
from services.incubators.progress import progress_facts
from shared import clock
from shared.locks import KeyedLocks
from shared.mongo import Repository, RepositoryProvider

STATES = ("open", "graduated", "exited")


class Incubators(Repository):
    def __init__(self, db: Any):
        super().__init__(db)
        self.locks = KeyedLocks()  # one writer per firm (or carrier) at a time

    def ensure_indexes(self) -> None:
        self.db.carriers.create_index([("incubator_id", ASCENDING)], unique=True)
        self.db.incubations.create_index([("incubation_id", ASCENDING)], unique=True)
        self.db.incubations.create_index([("uscc", ASCENDING)])
        self.db.incubations.create_index([("incubator_id", ASCENDING), ("state", ASCENDING)])
        self.db.firms.create_index([("uscc", ASCENDING)], unique=True)
        self.db.carrier_reports.create_index(
            [("incubator_id", ASCENDING), ("year", ASCENDING)], unique=True
        )
        self.db.findings.create_index([("finding_id", ASCENDING)], unique=True)
        self.db.findings.create_index([("incubator_id", ASCENDING), ("at", DESCENDING)])
        self.db.accepted_events.create_index(
            [("source", ASCENDING), ("id", ASCENDING)], unique=True
        )

    # carriers -------------------------------------------------------------------------------
    def put_carrier(self, carrier: dict[str, Any], key: str) -> None:
        """Newest registration wins (by event time, then id), whatever the arrival order."""
        where = {"incubator_id": carrier["incubator_id"], "order_key": {"$lte": key}}
        updated = self.db.carriers.update_one(where, {"$set": {**carrier, "order_key": key}})
        if updated.matched_count == 0:
            with suppress(DuplicateKeyError):  # a newer registration is stored
                self.db.carriers.insert_one({**carrier, "order_key": key})

    def carrier(self, incubator_id: str) -> dict[str, Any] | None:
        return self.db.carriers.find_one(
            {"incubator_id": incubator_id}, {"_id": False, "order_key": False}
        )

    def carrier_count(self) -> int:
        return self.db.carriers.count_documents({})

    def put_carrier_report(self, report: dict[str, Any]) -> None:
        self.db.carrier_reports.replace_one(
            {"incubator_id": report["incubator_id"], "year": report["year"]}, report, upsert=True
        )

    # incubations ----------------------------------------------------------------------------
    def incubations_of(self, uscc: str) -> list[Incubation]:
        return list(
            self.db.incubations.find({"uscc": uscc}, {"_id": False}).sort("admitted_on", ASCENDING)
        )

    def put_incubation(self, incubation: Incubation) -> None:
        self.db.incubations.replace_one(
            {"incubation_id": incubation["incubation_id"]}, incubation, upsert=True
        )

    def open_incubations(self, incubator_id: str | None = None) -> list[Incubation]:
        query: dict[str, Any] = {"state": "open"}
        if incubator_id:
            query["incubator_id"] = incubator_id
        return list(self.db.incubations.find(query, {"_id": False}))

    def incubates(self, incubator_id: str, uscc: str) -> bool:
        return (
            self.db.incubations.count_documents(
                {"incubator_id": incubator_id, "uscc": uscc, "state": "open"}, limit=1
            )
            > 0
        )

    def counts(self, incubator_id: str | None = None) -> dict[str, int]:
        """current (open), cumulative incubated, graduated and exited: for one carrier or all."""
        match = {"incubator_id": incubator_id} if incubator_id else {}
        by_state = Counter(
            {
                row["_id"]: row["n"]
                for row in self.db.incubations.aggregate(
                    [{"$match": match}, {"$group": {"_id": "$state", "n": {"$sum": 1}}}]
                )
            }
        )
        return {
            "current": by_state["open"],
            "cumulative": sum(by_state.values()),
            "graduated": by_state["graduated"],
            "exited": by_state["exited"],
        }

    def counts_by_unit(self) -> dict[str, dict[str, int]]:
        units = {
            c["incubator_id"]: c.get("unit")
            for c in self.db.carriers.find({}, {"incubator_id": True, "unit": True})
        }
        out: dict[str, Counter] = {}
        for row in self.db.incubations.aggregate(
            [
                {
                    "$group": {
                        "_id": {"incubator": "$incubator_id", "state": "$state"},
                        "n": {"$sum": 1},
                    }
                }
            ]
        ):
            unit = units.get(row["_id"]["incubator"]) or "unknown"
            out.setdefault(unit, Counter())[row["_id"]["state"]] += row["n"]
        return {
            unit: {
                "current": c["open"],
                "cumulative": sum(c.values()),
                "graduated": c["graduated"],
                "exited": c["exited"],
            }
            for unit, c in sorted(out.items())
        }

    def distinct_incubated_firms(self) -> int:
        return len(self.db.incubations.distinct("uscc"))

    # firms (registry snapshots) -------------------------------------------------------------
    def put_firm(self, snapshot: dict[str, Any]) -> bool:
        """Keep the newest snapshot; False when this one is stale."""
        record = {
            "uscc": snapshot["uscc"],
            "version": snapshot["version"],
            "snapshot": snapshot,
            **progress_facts(snapshot),
        }
        updated = self.db.firms.update_one(
            {"uscc": snapshot["uscc"], "version": {"$lt": snapshot["version"]}}, {"$set": record}
        )
        if updated.matched_count:
            return True
        try:
            self.db.firms.insert_one(record)
            return True
        except DuplicateKeyError:
            return False

    def firm(self, uscc: str) -> dict[str, Any] | None:
        record = self.db.firms.find_one({"uscc": uscc}, {"_id": False})
        return record["snapshot"] if record else None

    def tech_smes_registered(self) -> int:
        return self.db.firms.count_documents({"tech_sme_registered": True})

    def high_tech_by_year(self) -> Counter:
        years: Counter = Counter()
        for row in self.db.firms.find({}, {"_id": False, "high_tech_years": True}):
            years.update(row.get("high_tech_years", []))
        return years

    def latest_years(self) -> Counter:
        return Counter(
            row["latest_year"]
            for row in self.db.firms.find(
                {"latest_year": {"$ne": None}}, {"_id": False, "latest_year": True}
            )
        )

    # findings -------------------------------------------------------------------------------
    def add_finding(self, found: dict[str, Any]) -> dict[str, Any] | None:
        """Store a finding once; the stored finding when it is new, else None."""
        carrier = self.carrier(found["incubator_id"]) or {}
        record = {**found, "unit": carrier.get("unit"), "at": clock.now()}
        try:
            self.db.findings.insert_one(dict(record))
        except DuplicateKeyError:
            return None
        return record

    def findings_of(self, incubator_id: str, limit: int = 100) -> list[dict[str, Any]]:
        return list(
            self.db.findings.find({"incubator_id": incubator_id}, {"_id": False})
            .sort("at", DESCENDING)
            .limit(limit)
        )

    # accepted API events --------------------------------------------------------------------
    def accepted(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        if not keys:
            return set()
        rows = self.db.accepted_events.find(
            {"$or": [{"source": s, "id": i} for s, i in keys]}, {"source": True, "id": True}
        )
        return {(row["source"], row["id"]) for row in rows}

    def mark_accepted(self, keys: list[tuple[str, str]]) -> None:
        for source, event_id in keys:
            with suppress(DuplicateKeyError):
                self.db.accepted_events.insert_one(
                    {"source": source, "id": event_id, "at": clock.now()}
                )


class IncubatorStore(RepositoryProvider):
    repository_class = Incubators
