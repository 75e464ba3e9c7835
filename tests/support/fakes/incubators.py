"""incubators' storage in memory (an IncubatorsRepository) and its rule book, for unit tests of
its use cases: the same guards as storage.Incubators (newest registration and report by order
key, versioned life cycles and registry facts, findings guarded by their revision, announced
revisions that only grow), without a server."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

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
from services.incubators.rules import IncubatorRules
from services.incubators.storage import MAP_FIELDS, map_key
from tests.support.fakes.versioned import InMemoryVersioned

Document = dict[str, Any]


def newest(stored: dict[str, Document], _id: str, fields: Document, key: str) -> None:
    """Store `fields` under `_id` unless a document with a greater order key is there."""
    if _id not in stored or stored[_id]["order_key"] <= key:
        stored[_id] = {**stored.get(_id, {}), **copy.deepcopy(fields), "order_key": key}


def without_order(document: Document) -> Document:
    return {k: v for k, v in document.items() if k != "order_key"}


class InMemoryIncubators:
    def __init__(self) -> None:
        self.carrier_documents: dict[str, Document] = {}
        self.reports: dict[str, Document] = {}
        self.maps: dict[str, dict[str, Document]] = {}
        self.lifecycles = InMemoryVersioned()
        self.firms = InMemoryVersioned()
        self.findings: dict[str, Document] = {}
        self.accepted_keys: set[tuple[str, str]] = set()
        self.firm_locks = KeyedLocks()

    # carriers ---------------------------------------------------------------------------------
    def put_carrier(self, carrier: Document, key: str) -> None:
        newest(self.carrier_documents, carrier["incubator_id"], carrier, key)

    def put_carrier_report(self, report: Document, key: str) -> None:
        newest(self.reports, f"{report['incubator_id']}:{report['year']}", report, key)

    def carrier(self, incubator_id: str) -> Document | None:
        found = self.carrier_documents.get(incubator_id)
        return None if found is None else copy.deepcopy(without_order(found))

    def carriers(self) -> dict[str, Document]:
        return {i: copy.deepcopy(without_order(c)) for i, c in self.carrier_documents.items()}

    def carrier_count(self) -> int:
        return len(self.carrier_documents)

    def carrier_reports(self, incubator_id: str) -> list[Document]:
        found = [without_order(r) for r in self.reports.values()]
        return sorted(
            (r for r in found if r["incubator_id"] == incubator_id), key=lambda r: r["year"]
        )

    def carrier_units(self, incubator_ids: Iterable[str]) -> dict[str, str | None]:
        return {
            i: self.carrier_documents.get(i, {}).get("unit") for i in sorted(set(incubator_ids))
        }

    # life cycles ------------------------------------------------------------------------------
    def hold_firms(self, usccs: Iterable[str]) -> AbstractContextManager[None]:
        return self.firm_locks.hold_all(usccs)

    def update_lifecycles(self, usccs: list[str], compute: Compute) -> set[str]:
        return self.lifecycles.update(usccs, compute)

    def lifecycles_of(self, usccs: Iterable[str]) -> dict[str, Document]:
        return {uscc: with_facts(d) for uscc, d in self.lifecycles.read(usccs).items()}

    def all_lifecycles(self) -> Iterator[tuple[str, Document]]:
        for uscc in sorted(self.lifecycles.documents):
            yield uscc, with_facts(copy.deepcopy(self.lifecycles.documents[uscc]))

    def incubations_of_firms(self, usccs: list[str]) -> dict[str, list[Incubation]]:
        found = self.lifecycles.read(usccs)
        return {uscc: d["items"] for uscc, d in found.items() if d.get("items")}

    def incubated_firms(self, usccs: list[str]) -> set[str]:
        found = self.lifecycles.read(usccs)
        return {uscc for uscc, d in found.items() if d.get("items") or d.get("void")}

    def all_incubations(self) -> Iterator[Incubation]:
        for document in self.lifecycles.documents.values():
            yield from copy.deepcopy(document.get("items", []))

    def note_in_carriers(
        self, incubations: list[Incubation], removed: Iterable[Incubation] = ()
    ) -> None:
        for incubation in incubations:
            item = {field: incubation.get(field) for field in MAP_FIELDS}
            carrier_map = self.maps.setdefault(incubation["incubator_id"], {})
            carrier_map[map_key(incubation["incubation_id"])] = item
        for incubation in removed:
            self.maps.get(incubation["incubator_id"], {}).pop(
                map_key(incubation["incubation_id"]), None
            )

    def carrier_items(self, incubator_id: str) -> list[Document]:
        return copy.deepcopy(list(self.maps.get(incubator_id, {}).values()))

    def incubates(self, incubator_id: str, uscc: str) -> bool:
        return any(
            i["state"] == "open" and i["incubator_id"] == incubator_id
            for i in self.incubations_of_firms([uscc]).get(uscc, [])
        )

    def counts(self, incubator_id: str | None = None) -> dict[str, int]:
        if incubator_id is None:
            return tally(self.all_incubations())
        return tally(self.carrier_items(incubator_id))

    def distinct_incubated_firms(self) -> int:
        return sum(bool(d.get("items")) for d in self.lifecycles.documents.values())

    # registry facts ---------------------------------------------------------------------------
    def update_firms(self, usccs: list[str], compute: Compute) -> set[str]:
        return self.firms.update(usccs, compute)

    def registry_facts(self, usccs: Iterable[str]) -> dict[str, Document]:
        return {uscc: stored_facts(d) for uscc, d in self.firms.read(usccs).items()}

    def known_firms(self, usccs: Iterable[str]) -> set[str]:
        return set(self.firms.read(usccs))

    # findings ---------------------------------------------------------------------------------
    def stored_findings(self, finding_ids: Iterable[str]) -> dict[str, Document]:
        return {
            i: as_current_finding(copy.deepcopy(self.findings[i]))
            for i in set(finding_ids)
            if i in self.findings
        }

    def apply_findings(self, changes: list[Change]) -> None:
        for change in changes:
            finding_id = change.document["finding_id"]
            stored = self.findings.get(finding_id)
            if change.new:
                self.findings.setdefault(finding_id, copy.deepcopy(change.document))
            elif stored is not None and stored.get("revision") == change.previous_revision:
                stored.update(copy.deepcopy(change.fields))
                if change.entry:
                    stored.setdefault("history", []).append(copy.deepcopy(change.entry))

    def findings_waiting_for(self, incubator_id: str, unit: str) -> list[Document]:
        mine = [f for f in self.findings.values() if f["incubator_id"] == incubator_id]
        for finding in mine:
            if finding.get("unit") is None:
                finding["unit"] = unit
        current = [as_current_finding(copy.deepcopy(f)) for f in mine if f["unit"] == unit]
        return [f for f in current if f["announced_revision"] < f["revision"]]

    def mark_announced(self, findings: list[Finding]) -> None:
        for finding in findings:
            stored = self.findings.get(finding["finding_id"])
            if stored is not None and stored.get("announced_revision", 0) < finding["revision"]:
                stored["announced_revision"] = finding["revision"]

    def findings_of(self, incubator_id: str, limit: int = 100) -> list[Document]:
        mine = [f for f in self.findings.values() if f["incubator_id"] == incubator_id]
        latest = sorted(mine, key=lambda f: f["at"], reverse=True)[:limit]
        return [public(as_current_finding(copy.deepcopy(f))) for f in latest]

    def open_findings(self) -> Iterator[Document]:
        for finding in list(self.findings.values()):
            if finding.get("status") != "resolved":
                yield as_current_finding(copy.deepcopy(finding))

    def open_findings_of(self, incubator_ids: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings.values():
            if finding["incubator_id"] in incubator_ids and finding.get("resolved_at") is None:
                counts[finding["incubator_id"]] = counts.get(finding["incubator_id"], 0) + 1
        return counts

    # accepted API events ----------------------------------------------------------------------
    def accepted(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        return set(keys) & self.accepted_keys

    def mark_accepted(self, keys: list[tuple[str, str]]) -> None:
        self.accepted_keys |= set(keys)


class InMemoryRuleBook:
    """Rule sets by id, the latest version of each; one active."""

    def __init__(self, *loaded: IncubatorRules):
        self.loaded = {rules.id: rules for rules in loaded}
        self.active_rules_id = loaded[0].id if loaded else None

    def store(self, ruleset: IncubatorRules) -> None:
        held = self.loaded.get(ruleset.id)
        if held is not None and held.version > ruleset.version:
            raise ValueError(f"{ruleset.id} version {held.version} is loaded")
        self.loaded[ruleset.id] = ruleset

    def get(self, ruleset_id: str, fresh: bool = False) -> IncubatorRules:
        if ruleset_id not in self.loaded:
            raise KeyError(f"no rule set {ruleset_id!r} is loaded")
        return self.loaded[ruleset_id]

    def set_active(self, rules: IncubatorRules) -> None:
        self.active_rules_id = rules.id

    def active(self) -> IncubatorRules:
        return self.get(str(self.active_rules_id))

    def active_id(self, fresh: bool = False) -> str | None:
        return self.active_rules_id

    def listing(self) -> list[dict[str, Any]]:
        return [{"id": r.id, "version": r.version} for _, r in sorted(self.loaded.items())]


class Dispatched:
    """The service's event dispatcher, recording what it sends."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, event_type: str, payload: dict[str, Any]) -> None:
        self.events.append((event_type, payload))

    def many(self, events: Iterable[tuple[str, dict[str, Any]]]) -> None:
        self.events.extend(events)

    def of(self, event_type: str) -> list[dict[str, Any]]:
        return [payload for kind, payload in self.events if kind == event_type]
