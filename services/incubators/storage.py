"""MongoDB storage of the incubators service: carriers and their reports, each firm's
incubations (one document per firm, found by `_id`), the registry facts of the firms it
incubates (firms.py), findings, and the ids the HTTP API has accepted. Per-event work reads
and writes by `_id` only; the counts that span everything are computed when asked for."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.incubators.firms import facts_of
from services.incubators.lifecycle import Incubation
from shared import clock
from shared.locks import KeyedLocks
from shared.mongo import Repository, RepositoryProvider, pack, unpack
from shared.versioned import Versioned

NO_ID = {"_id": False}
FINDING_FIELDS = {"_id": False, "announced": False}


def tally(incubations: Iterable[dict[str, Any]]) -> dict[str, int]:
    by_state = Counter(i["state"] for i in incubations)
    return {
        "current": by_state["open"],
        "cumulative": sum(by_state.values()),
        "graduated": by_state["graduated"],
        "exited": by_state["exited"],
    }


class Incubators(Repository):
    def __init__(self, db: Any):
        super().__init__(db)
        # One writer per firm at a time in this process: life-cycle events and registry
        # snapshots meet on a firm (an admission and the founding date it is checked against).
        self.locks = KeyedLocks()
        self.carrier_locks = KeyedLocks()
        self.firms = Versioned(self.db.firms)  # registry facts, a batch at a time

    def ensure_indexes(self) -> None:
        self.db.findings.create_index([("incubator_id", DESCENDING), ("at", DESCENDING)])
        self.backfill_carrier_incubations()

    def backfill_carrier_incubations(self) -> None:
        """Once, for a database written before carriers kept the states of their incubations."""
        if self.db.carrier_incubations.find_one({}, {"_id": True}) is not None:
            return
        for incubation in self.all_incubations():
            self.note_in_carrier(incubation)

    # carriers -------------------------------------------------------------------------------
    def put_carrier(self, carrier: dict[str, Any], key: str) -> None:
        """Newest registration wins (by event time, then id), whatever the arrival order."""
        record = {**carrier, "order_key": key}
        where = {"_id": carrier["incubator_id"], "order_key": {"$lte": key}}
        if self.db.carriers.update_one(where, {"$set": record}).matched_count == 0:
            with suppress(DuplicateKeyError):  # a newer registration is stored
                self.db.carriers.insert_one({"_id": carrier["incubator_id"], **record})

    def carrier(self, incubator_id: str) -> dict[str, Any] | None:
        return self.db.carriers.find_one({"_id": incubator_id}, {"_id": False, "order_key": False})

    def carriers(self) -> dict[str, dict[str, Any]]:
        return {c["incubator_id"]: c for c in self.db.carriers.find({}, NO_ID)}

    def carrier_count(self) -> int:
        return self.db.carriers.count_documents({})

    def put_carrier_report(self, report: dict[str, Any]) -> None:
        key = f"{report['incubator_id']}:{report['year']}"
        self.db.carrier_reports.replace_one({"_id": key}, report, upsert=True)

    def carrier_reports(self, incubator_id: str) -> list[dict[str, Any]]:
        return list(self.db.carrier_reports.find({"incubator_id": incubator_id}, {"_id": False}))

    # incubations ----------------------------------------------------------------------------
    def incubations_of(self, uscc: str) -> list[Incubation]:
        record = self.db.firm_incubations.find_one({"_id": uscc}, {"items": True})
        return record["items"] if record else []

    def incubations_of_firms(self, usccs: list[str]) -> dict[str, list[Incubation]]:
        """The incubations of each of these firms that has any, one query."""
        found = self.db.firm_incubations.find({"_id": {"$in": sorted(set(usccs))}}, {"items": True})
        return {record["_id"]: record["items"] for record in found}

    def put_incubation(self, incubation: Incubation) -> None:
        """Add or replace one incubation in its firm's document (callers hold the firm lock)."""
        items = [
            i
            for i in self.incubations_of(incubation["uscc"])
            if i["incubation_id"] != incubation["incubation_id"]
        ]
        items = sorted([*items, incubation], key=lambda i: i["admitted_on"])
        self.db.firm_incubations.replace_one(
            {"_id": incubation["uscc"]}, {"items": items}, upsert=True
        )
        self.note_in_carrier(incubation)

    def note_in_carrier(self, incubation: Incubation) -> None:
        """The carrier's own map of its incubations' states, so that a carrier's counts and
        current incubatees never read every firm's document (a full scan on FerretDB, once per
        carrier report). Written after the firm's document: a redelivered event rewrites both."""
        item = {"uscc": incubation["uscc"], "state": incubation["state"]}
        key = hashlib.blake2b(incubation["incubation_id"].encode(), digest_size=8).hexdigest()
        with self.carrier_locks.hold(incubation["incubator_id"]):  # FerretDB: no isolation
            self.db.carrier_incubations.update_one(
                {"_id": incubation["incubator_id"]}, {"$set": {f"items.{key}": item}}, upsert=True
            )

    def carrier_items(self, incubator_id: str) -> list[dict[str, str]]:
        """(uscc, state) of each of the carrier's incubations."""
        record = self.db.carrier_incubations.find_one({"_id": incubator_id}, {"items": True})
        return list((record or {}).get("items", {}).values())

    def all_incubations(self) -> Iterator[Incubation]:
        for record in self.db.firm_incubations.find({}, {"items": True}):
            yield from record["items"]

    def open_incubations(self, incubator_id: str | None = None) -> list[Incubation]:
        """Open incubations: all of them, or one carrier's (read from its firms' documents)."""
        if incubator_id is None:
            return [i for i in self.all_incubations() if i["state"] == "open"]
        items = self.carrier_items(incubator_id)
        usccs = sorted({i["uscc"] for i in items if i["state"] == "open"})
        if not usccs:
            return []
        firms = self.db.firm_incubations.find({"_id": {"$in": usccs}}, {"items": True})
        return [
            i
            for record in firms
            for i in record["items"]
            if i["state"] == "open" and i["incubator_id"] == incubator_id
        ]

    def incubates(self, incubator_id: str, uscc: str) -> bool:
        return any(
            i["state"] == "open" and i["incubator_id"] == incubator_id
            for i in self.incubations_of(uscc)
        )

    def counts(self, incubator_id: str | None = None) -> dict[str, int]:
        """current (open), cumulative incubated, graduated and exited: for one carrier or all."""
        if incubator_id is None:
            return tally(self.all_incubations())
        return tally(self.carrier_items(incubator_id))

    def counts_by_unit(self) -> dict[str, dict[str, int]]:
        units = {c["incubator_id"]: c.get("unit") for c in self.carriers().values()}
        by_unit: dict[str, list[Incubation]] = {}
        for incubation in self.all_incubations():
            unit = units.get(incubation["incubator_id"]) or "unknown"
            by_unit.setdefault(unit, []).append(incubation)
        return {unit: tally(items) for unit, items in sorted(by_unit.items())}

    def distinct_incubated_firms(self) -> int:
        return self.db.firm_incubations.count_documents({})

    # firms (registry snapshots) -------------------------------------------------------------
    def firm(self, uscc: str) -> dict[str, Any] | None:
        """The firm's registry facts (firms.py), or None before its first snapshot."""
        document = self.db.firms.find_one({"_id": uscc})
        return None if document is None else stored_facts(document)

    # findings -------------------------------------------------------------------------------
    def add_finding(self, found: dict[str, Any]) -> dict[str, Any] | None:
        """Store a finding once. Returns it while it is to be announced: not announced yet (so
        a redelivered event announces what a crash or a broker restart left unannounced) and
        with its carrier's unit known (else the carrier's registration announces it)."""
        record = {**found, "unit": self.carrier_unit(found["incubator_id"]), "at": clock.now()}
        try:
            self.db.findings.insert_one({"_id": found["finding_id"], **record, "announced": False})
        except DuplicateKeyError:
            record = self.db.findings.find_one(
                {"_id": found["finding_id"], "announced": False}, FINDING_FIELDS
            )
        if record is not None and record["unit"] is None:
            # The carrier may have registered since it was read: it then did not see this one.
            record["unit"] = self.carrier_unit(found["incubator_id"])
            if record["unit"] is not None:
                self.db.findings.update_one(
                    {"_id": found["finding_id"], "unit": None}, {"$set": {"unit": record["unit"]}}
                )
        return record if record is not None and record["unit"] is not None else None

    def carrier_unit(self, incubator_id: str) -> str | None:
        return (self.carrier(incubator_id) or {}).get("unit")

    def findings_waiting_for(self, incubator_id: str, unit: str) -> list[dict[str, Any]]:
        """Findings made before their carrier was known: they get its unit, to be announced."""
        waiting = list(
            self.db.findings.find(
                {"incubator_id": incubator_id, "unit": None, "announced": False}, FINDING_FIELDS
            )
        )
        for record in waiting:
            self.db.findings.update_one(
                {"_id": record["finding_id"], "unit": None}, {"$set": {"unit": unit}}
            )
            record["unit"] = unit
        return waiting

    def mark_announced(self, finding_ids: list[str]) -> None:
        self.db.findings.update_many({"_id": {"$in": finding_ids}}, {"$set": {"announced": True}})

    def findings_of(self, incubator_id: str, limit: int = 100) -> list[dict[str, Any]]:
        return list(
            self.db.findings.find({"incubator_id": incubator_id}, FINDING_FIELDS)
            .sort("at", DESCENDING)
            .limit(limit)
        )

    def findings_by_kind_and_unit(self) -> Counter:
        return Counter(
            (row["kind"], row.get("unit") or "unknown")
            for row in self.db.findings.find({}, {"kind": True, "unit": True})
        )

    def findings_summary(self) -> dict[str, Any]:
        by_kind: Counter = Counter()
        by_unit: Counter = Counter()
        for (kind, unit), n in self.findings_by_kind_and_unit().items():
            by_kind[kind] += n
            by_unit[unit] += n
        return {"total": sum(by_kind.values()), "by_kind": dict(by_kind), "by_unit": dict(by_unit)}

    # accepted API events --------------------------------------------------------------------
    def accepted(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """The keys accepted before, one `_id` lookup each: FerretDB serves `_id: {$in}` by
        reading the whole collection, which grows with every accepted event, and a batch is
        at most MAX_BATCH (500) events."""
        return {
            (s, i)
            for s, i in keys
            if self.db.accepted_events.find_one({"_id": f"{s}\n{i}"}, {"_id": True})
        }

    def mark_accepted(self, keys: list[tuple[str, str]]) -> None:
        if not keys:
            return
        now = clock.now()
        with suppress(BulkWriteError):  # some were accepted meanwhile: fine
            self.db.accepted_events.insert_many(
                [{"_id": f"{s}\n{i}", "at": now} for s, i in keys], ordered=False
            )


def firm_document(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A firm's stored facts, packed."""
    return {
        "_id": snapshot["uscc"],
        "uscc": snapshot["uscc"],
        "version": snapshot["version"],
        "facts": pack(facts_of(snapshot)),
    }


def stored_facts(document: dict[str, Any]) -> dict[str, Any]:
    """The facts of a stored firm (one stored before facts were cut down kept the snapshot)."""
    if "facts" in document:
        return unpack(document["facts"])
    return facts_of(unpack(document["snapshot"]))


class IncubatorStore(RepositoryProvider):
    repository_class = Incubators
