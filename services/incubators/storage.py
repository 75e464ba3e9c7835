"""MongoDB storage of the incubators service (an IncubatorsRepository): carriers and their
yearly reports, each firm's life cycle (its facts and the incubations derived from them, one
document per firm found by `_id`), each carrier's map of its incubations, the registry facts of
the firms it incubates (firms.py), findings with their history and each carrier's list of its
findings, and the ids the HTTP API has accepted. Per-event work reads and writes by `_id` (a
batch's documents at once); the counts that span everything are computed when asked for. The
rule sets are IncubatorRuleSets."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.incubators.documents import (
    as_current_finding,
    public,
    stored_facts,
    tally,
    with_facts,
)
from services.incubators.findings import Change, Finding
from services.incubators.lifecycle import Incubation
from services.incubators.locks import KeyedLocks
from services.incubators.repository import Compute
from services.incubators.rules import IncubatorRules, parse_rules
from shared.domain import clock
from shared.mongo import (
    BULK_CHUNK,
    Repository,
    RepositoryProvider,
    bulk_write,
    find_by_ids,
    id_chunks,
)
from shared.rulesets import RuleSetTexts
from shared.versioned import Versioned

NO_ID = {"_id": False}
FINDING_FIELDS = {"_id": False, "history": False}
DUPLICATE_KEY = 11000


def map_key(item_id: str) -> str:
    """A field-name-safe key of an incubation or a finding in its carrier's map (ids may hold
    dots and `$`)."""
    return hashlib.blake2b(item_id.encode(), digest_size=8).hexdigest()


MAP_FIELDS = ("uscc", "state", "admitted_on", "ended_on")


class Incubators(Repository):
    def __init__(self, db: Any):
        super().__init__(db)
        # One writer per firm at a time in this process: life-cycle events and registry
        # snapshots meet on a firm (an admission and the founding date it is checked against).
        self.firm_locks = KeyedLocks()
        self.carrier_locks = KeyedLocks()
        self.lifecycles = Versioned(self.db.firm_incubations)  # facts and incubations
        self.firms = Versioned(self.db.firms)  # registry facts, a batch at a time

    def ensure_indexes(self) -> None:
        self.backfill_carrier_incubations()
        self.backfill_carrier_findings()

    def backfill_carrier_incubations(self) -> None:
        """Once, for a database written before carriers kept the dates of their incubations."""
        if self.db.carrier_incubations.find_one({"dated": True}, {"_id": True}) is not None:
            return
        for incubation in self.all_incubations():
            self.note_in_carriers([incubation])
        self.db.carrier_incubations.update_many({}, {"$set": {"dated": True}})

    def backfill_carrier_findings(self) -> None:
        """Once, for a database written before carriers listed their findings."""
        if self.db.carrier_findings.find_one({}, {"_id": True}) is not None:
            return
        self.note_findings(self.db.findings.find({}, {"finding_id": True, "incubator_id": True}))

    # carriers -------------------------------------------------------------------------------
    def put_carrier(self, carrier: dict[str, Any], key: str) -> None:
        """Newest registration wins (by event time, then id), whatever the arrival order."""
        self.put_newest(self.db.carriers, carrier["incubator_id"], carrier, key)

    def put_newest(self, collection: Any, _id: str, fields: dict[str, Any], key: str) -> None:
        """Store `fields` under `_id` unless a document with a greater order key is there."""
        record = {**fields, "order_key": key}
        where = {"_id": _id, "order_key": {"$lte": key}}
        if collection.update_one(where, {"$set": record}).matched_count == 0:
            with suppress(DuplicateKeyError):  # a newer one is stored
                collection.insert_one({"_id": _id, **record})

    def carrier(self, incubator_id: str) -> dict[str, Any] | None:
        return self.db.carriers.find_one({"_id": incubator_id}, {"_id": False, "order_key": False})

    def carriers(self) -> dict[str, dict[str, Any]]:
        return {
            c["incubator_id"]: c for c in self.db.carriers.find({}, {**NO_ID, "order_key": False})
        }

    def carrier_count(self) -> int:
        return self.db.carriers.count_documents({})

    def put_carrier_report(self, report: dict[str, Any], key: str) -> None:
        """A later report for the same carrier and year replaces the earlier one (by event
        time, then id), whatever the arrival order."""
        _id = f"{report['incubator_id']}:{report['year']}"
        self.put_newest(self.db.carrier_reports, _id, report, key)

    def carrier_reports(self, incubator_id: str) -> list[dict[str, Any]]:
        found = self.db.carrier_reports.find(
            {"incubator_id": incubator_id}, {**NO_ID, "order_key": False}
        )
        return sorted(found, key=lambda r: r["year"])

    # life cycles ----------------------------------------------------------------------------
    def hold_firms(self, usccs: Iterable[str]) -> AbstractContextManager[None]:
        return self.firm_locks.hold_all(usccs)

    def update_lifecycles(self, usccs: list[str], compute: Compute) -> set[str]:
        return self.lifecycles.update(usccs, compute)

    def lifecycles_of(self, usccs: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each of these firms' life-cycle document (facts, incubations, held ends), one query;
        one written before facts were kept has them rebuilt from its incubations."""
        return {
            uscc: with_facts(document) for uscc, document in self.lifecycles.read(usccs).items()
        }

    def incubations_of(self, uscc: str) -> list[Incubation]:
        return self.incubations_of_firms([uscc]).get(uscc, [])

    def incubations_of_firms(self, usccs: list[str]) -> dict[str, list[Incubation]]:
        """The incubations of each of these firms that has any, one query."""
        found = find_by_ids(self.db.firm_incubations, usccs, fields={"items": True})
        return {record["_id"]: record.get("items", []) for record in found if record.get("items")}

    def incubated_firms(self, usccs: list[str]) -> set[str]:
        fields = {"items": True, "void": True}
        found = find_by_ids(self.db.firm_incubations, usccs, fields=fields)
        return {record["_id"] for record in found if record.get("items") or record.get("void")}

    def note_in_carriers(
        self, incubations: list[Incubation], removed: Iterable[Incubation] = ()
    ) -> None:
        """Each carrier's own map of its incubations (state and dates), so that a carrier's
        counts, its incubatees and its counts at a year's end never read every firm's document
        (a full scan on FerretDB); `removed`: incubations no longer derived (void). Written
        after the firm's document: a redelivered event rewrites both."""
        sets: dict[str, dict[str, Any]] = {}
        unsets: dict[str, dict[str, Any]] = {}
        for incubation in incubations:
            item = {field: incubation.get(field) for field in MAP_FIELDS}
            key = map_key(incubation["incubation_id"])
            sets.setdefault(incubation["incubator_id"], {})[f"items.{key}"] = item
        for incubation in removed:
            key = map_key(incubation["incubation_id"])
            unsets.setdefault(incubation["incubator_id"], {})[f"items.{key}"] = ""
        for incubator_id in sorted(sets.keys() | unsets.keys()):
            change: dict[str, Any] = {"$set": {**sets.get(incubator_id, {}), "dated": True}}
            if incubator_id in unsets:
                change["$unset"] = unsets[incubator_id]
            self.update_carrier_map(self.db.carrier_incubations, incubator_id, change)

    def update_carrier_map(self, collection: Any, incubator_id: str, change: dict) -> None:
        """Upsert a carrier's map; two upserts of a new one race on FerretDB (no isolation,
        here held off by a lock) and on MongoDB (another replica), and the loser's retry
        updates the winner's document."""
        with self.carrier_locks.hold(incubator_id):
            try:
                collection.update_one({"_id": incubator_id}, change, upsert=True)
            except DuplicateKeyError:
                collection.update_one({"_id": incubator_id}, change, upsert=True)

    def carrier_items(self, incubator_id: str) -> list[dict[str, Any]]:
        """(uscc, state, admitted_on, ended_on) of each of the carrier's incubations."""
        record = self.db.carrier_incubations.find_one({"_id": incubator_id}, {"items": True})
        return list((record or {}).get("items", {}).values())

    def all_incubations(self) -> Iterator[Incubation]:
        for record in self.db.firm_incubations.find({}, {"items": True}):
            yield from record.get("items", [])

    def all_lifecycles(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for document in self.db.firm_incubations.find({}):
            yield document["_id"], with_facts(document)

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

    def distinct_incubated_firms(self) -> int:
        """Firms with at least one incubation (an end held for its admission is none)."""
        return self.db.firm_incubations.count_documents({"items.0": {"$exists": True}})

    # firms (registry facts) -----------------------------------------------------------------
    def firm(self, uscc: str) -> dict[str, Any] | None:
        """The firm's registry facts (firms.py), or None before its first snapshot."""
        return self.registry_facts([uscc]).get(uscc)

    def registry_facts(self, usccs: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {uscc: stored_facts(d) for uscc, d in self.firms.read(usccs).items()}

    def known_firms(self, usccs: Iterable[str]) -> set[str]:
        return set(self.firms.read(usccs))

    def update_firms(self, usccs: list[str], compute: Compute) -> set[str]:
        return self.firms.update(usccs, compute)

    # findings -------------------------------------------------------------------------------
    def stored_findings(self, finding_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """These findings as stored (absent ones left out)."""
        found = find_by_ids(self.db.findings, finding_ids)
        return {document["_id"]: as_current_finding(document) for document in found}

    def apply_findings(self, changes: list[Change]) -> None:
        """Store new findings and the changes of stored ones (each guarded by the revision it
        was computed from: a writer that lost to another leaves the other's). New ones are
        listed in their carrier's list first: a listed id not stored yet is never read."""
        self.note_findings(c.document for c in changes if c.new)
        inserts = [
            InsertOne({"_id": c.document["finding_id"], **c.document}) for c in changes if c.new
        ]
        updates = [
            UpdateOne(
                {"_id": c.document["finding_id"], "revision": c.previous_revision},
                {"$set": c.fields, **({"$push": {"history": c.entry}} if c.entry else {})},
            )
            for c in changes
            if not c.new
        ]
        for start in range(0, len(inserts), BULK_CHUNK):
            with suppress(BulkWriteError):  # stored meanwhile by another writer: theirs stands
                self.db.findings.bulk_write(inserts[start : start + BULK_CHUNK], ordered=False)
        bulk_write(self.db.findings, updates)

    def note_findings(self, findings: Iterable[dict[str, Any]]) -> None:
        """Each carrier's list of its findings' ids, so that a carrier's findings are read by
        `_id` (FerretDB reads every finding, with its history, for a query on another field).
        Ids are only ever added: the list is the same whatever the order of its writers."""
        listed: dict[str, dict[str, str]] = {}
        for finding in findings:
            key = f"ids.{map_key(finding['finding_id'])}"
            listed.setdefault(finding["incubator_id"], {})[key] = finding["finding_id"]
        for incubator_id, ids in sorted(listed.items()):
            self.update_carrier_map(self.db.carrier_findings, incubator_id, {"$set": ids})

    def carrier_findings(
        self,
        incubator_ids: Iterable[str],
        where: dict[str, Any] | None = None,
        fields: dict[str, bool] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The stored findings of these carriers matching `where`: their lists, then the
        findings by `_id`."""
        listed = find_by_ids(self.db.carrier_findings, incubator_ids)
        ids = [i for record in listed for i in record.get("ids", {}).values()]
        return find_by_ids(self.db.findings, ids, where, fields)

    def carrier_units(self, incubator_ids: Iterable[str]) -> dict[str, str | None]:
        wanted = sorted(set(incubator_ids))
        found = find_by_ids(self.db.carriers, wanted, fields={"unit": True})
        units = {c["_id"]: c.get("unit") for c in found}
        return {i: units.get(i) for i in wanted}

    def carrier_unit(self, incubator_id: str) -> str | None:
        return self.carrier_units([incubator_id])[incubator_id]

    def findings_waiting_for(self, incubator_id: str, unit: str) -> list[dict[str, Any]]:
        """Findings made before their carrier was known: they get its unit, to be announced."""
        unplaced = self.carrier_findings([incubator_id], {"unit": None}, {"_id": True})
        for chunk in id_chunks(f["_id"] for f in unplaced):
            self.db.findings.update_many(
                {"_id": {"$in": chunk}, "unit": None}, {"$set": {"unit": unit}}
            )
        found = self.carrier_findings([incubator_id], {"unit": unit})
        return [
            f for f in map(as_current_finding, found) if f["announced_revision"] < f["revision"]
        ]

    def mark_announced(self, findings: list[Finding]) -> None:
        bulk_write(
            self.db.findings,
            [
                UpdateOne(
                    {"_id": f["finding_id"], "announced_revision": {"$lt": f["revision"]}},
                    {"$set": {"announced_revision": f["revision"]}},
                )
                for f in findings
            ],
        )

    def findings_of(self, incubator_id: str, limit: int = 100) -> list[dict[str, Any]]:
        found = sorted(self.carrier_findings([incubator_id]), key=lambda f: f["at"], reverse=True)
        return [public(as_current_finding(f)) for f in found[:limit]]

    def open_findings(self) -> Iterator[dict[str, Any]]:
        for document in self.db.findings.find({"status": {"$ne": "resolved"}}):
            yield as_current_finding(document)

    def open_findings_of(self, incubator_ids: list[str]) -> dict[str, int]:
        found = self.carrier_findings(incubator_ids, {"resolved_at": None}, {"incubator_id": True})
        return dict(Counter(row["incubator_id"] for row in found))

    # accepted API events --------------------------------------------------------------------
    def accepted(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """The keys accepted before."""
        wanted = {f"{s}\n{i}": (s, i) for s, i in keys}
        return {
            wanted[d["_id"]]
            for d in find_by_ids(self.db.accepted_events, wanted, None, {"_id": True})
        }

    def mark_accepted(self, keys: list[tuple[str, str]]) -> None:
        if not keys:
            return
        now = clock.now()
        with suppress(BulkWriteError):  # some were accepted meanwhile: fine
            self.db.accepted_events.insert_many(
                [{"_id": f"{s}\n{i}", "at": now} for s, i in keys], ordered=False
            )


class IncubatorStore(RepositoryProvider[Incubators]):
    repository_class = Incubators


BUNDLED_RULES = Path(__file__).resolve().parent / "rulesets"
ACTIVE = "incubator_rules"  # the settings document naming the active rule set
ACTIVE_CACHE_SECONDS = 5.0
DEFAULT_RULES = "jl-incubators-2025"


class IncubatorRuleSets(RuleSetTexts[IncubatorRules]):
    """The incubator rule sets loaded (every version kept) and the one active for the province
    (`default_id` until one is activated)."""

    def __init__(self, db: Any, default_id: str = DEFAULT_RULES):
        super().__init__(db, parse_rules, BUNDLED_RULES, collection="incubator_rulesets")
        self.default_id = default_id
        self._active: tuple[float, str | None] = (0.0, None)

    def install_defaults(self) -> None:
        """Load the repository's rule sets when absent; activate the default if none is. (Not
        an override of `install_bundled`, which `get` falls back on.)"""
        self.install_missing()
        if self.active_id(fresh=True) is None:
            self.set_active(self.get(self.default_id))

    def active_id(self, fresh: bool = False) -> str | None:
        read_at, active = self._active
        if fresh or time.monotonic() - read_at > ACTIVE_CACHE_SECONDS:
            active = (self.settings.find_one({"_id": ACTIVE}) or {}).get("active")
            self._active = (time.monotonic(), active)
        return active

    def active(self) -> IncubatorRules:
        return self.get(self.active_id() or self.default_id)

    def set_active(self, rules: IncubatorRules) -> None:
        self.settings.update_one({"_id": ACTIVE}, {"$set": {"active": rules.id}}, upsert=True)
        self._active = (time.monotonic(), rules.id)


class RulesStore(RepositoryProvider[IncubatorRuleSets]):
    """The rule sets, with the default (`INCUBATOR_RULES`) installed and active at start."""

    repository_class = IncubatorRuleSets

    def setup(self) -> None:
        super().setup()
        self.repository.default_id = self.container.config.get("INCUBATOR_RULES") or DEFAULT_RULES

    def start(self) -> None:
        super().start()
        self.repository.install_defaults()
