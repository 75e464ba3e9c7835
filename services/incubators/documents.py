"""incubators' stored documents in their current form (ones written by earlier versions
upgraded as they are read) and what the APIs show of them. Plain functions, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from services.incubators.firms import facts_of
from services.incubators.lifecycle import Facts
from shared.mongo import pack, unpack


def tally(incubations: Iterable[dict[str, Any]]) -> dict[str, int]:
    by_state = Counter(i["state"] for i in incubations)
    return {
        "current": by_state["open"],
        "cumulative": sum(by_state.values()),
        "graduated": by_state["graduated"],
        "exited": by_state["exited"],
    }


def with_facts(document: dict[str, Any]) -> dict[str, Any]:
    """A life-cycle document with its facts; one stored before facts were kept (only its
    incubations) has them rebuilt from those."""
    if "facts" in document:
        return document
    facts: Facts = {"admissions": [], "ends": []}
    for i in document.get("items", []):
        facts["admissions"].append(
            {
                "key": i["admitted_by"],
                "incubator_id": i["incubator_id"],
                "order": "",
                "admitted_on": i["admitted_on"],
                "track": i.get("track"),
            }
        )
        if i.get("ended_by"):
            end = {"key": i["ended_by"], "incubator_id": i["incubator_id"], "order": ""}
            detail = {k: i[k] for k in ("basis", "reason") if k in i}
            facts["ends"].append({**end, "state": i["state"], "ended_on": i["ended_on"], **detail})
    return {**document, "facts": facts, "held": document.get("held", [])}


def as_current_finding(document: dict[str, Any]) -> dict[str, Any]:
    """A stored finding with every field of the current form (one stored before findings
    could be withdrawn was open, at revision 1, announced or not)."""
    finding = {k: v for k, v in document.items() if k != "_id"}
    finding.setdefault("status", "open")
    finding.setdefault("revision", 1)
    finding.setdefault("announced_revision", 1 if finding.pop("announced", False) else 0)
    finding.setdefault("resolved_at", None)
    finding.setdefault("resolution", None)
    finding.setdefault("ruleset", None)
    finding.setdefault("history", [])
    return finding


def public(finding: dict[str, Any]) -> dict[str, Any]:
    """What the APIs show of a finding (its history stays in the database)."""
    return {k: v for k, v in finding.items() if k not in ("history", "announced_revision")}


def firm_document(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A firm's stored registry facts, packed."""
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
