"""The incubation life cycle, order-free. Plain functions, no I/O.

A firm's life-cycle events are kept as facts: its admissions (a carrier, a day, a track) and the
ends of its incubations (graduated or exited, at a carrier, on a day). Its incubations are
derived from the facts alone, so any arrival order, and any repeat, gives the same ones:

- at each carrier, the earliest end after an admission (up to and including the day of the
  carrier's next admission, so a readmission on the day an incubation ended is one of its own)
  ends it;
- an end no admission takes yet is held (an end before any admission at its carrier, or a
  second end inside one admission's window) and is paired as soon as the admission it belongs
  to arrives: carriers send their history late, and back-fill it;
- two admissions at one carrier on one day are one admission (the same event sent again under
  a new id): the first by event time, then key, gives its track;
- an admission before the firm was founded is void: it cannot be true, so it counts nowhere.

An admission or an end dated before the firm was founded is refused when it arrives if the
founding date is known then (the publisher is told why); one that arrived before the date was
known (or before it was corrected) is void from the moment it is, with a finding saying so, so
the incubations and every count end the same either way. Everything else the data does not
(yet) add up to is a finding that follows the data (findings.py): incubations that overlap as
the facts stand (two carriers on one day among them), or an end waiting for its admission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.envelope import CloudEvent

Incubation = dict[str, Any]
Fact = dict[str, Any]
Facts = dict[str, list[Fact]]  # "admissions", "ends"
ENDINGS = {"incubator.firm_graduated": "graduated", "incubator.firm_exited": "exited"}


class Refused(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {v[0]}" for k, v in errors.items()))
        self.errors = errors


def event_key(event: CloudEvent) -> str:
    return f"{event.source}|{event.id}"


def fact_of(event: CloudEvent) -> tuple[str, Fact]:
    """("admissions" or "ends", the fact) of a life-cycle event."""
    data = event.data
    common = {
        "key": event_key(event),
        "incubator_id": data["incubator_id"],
        "order": event.order_key,
    }
    if event.type == "incubator.firm_admitted":
        admitted = {**common, "admitted_on": data["admitted_on"].isoformat()}
        return "admissions", {**admitted, "track": data.get("track")}
    state = ENDINGS[event.type]
    day = data["graduated_on" if state == "graduated" else "exited_on"].isoformat()
    detail = {"basis": data["basis"]} if state == "graduated" else {"reason": data["reason"]}
    return "ends", {**common, "state": state, "ended_on": day, **detail}


@dataclass(frozen=True)
class Derived:
    incubations: list[Incubation]  # by admission day, then carrier
    held: list[Fact]  # ends no admission takes (yet), by day
    void: list[Fact] = field(default_factory=list)  # admissions before the founding date


def derive(uscc: str, facts: Facts, founded_on: str | None = None) -> Derived:
    """The firm's incubations from its facts and, where known, its founding date (see the
    module docstring)."""
    admissions: dict[str, list[Fact]] = {}
    void = []
    for admission in first_of_each_day(facts.get("admissions", [])):
        if founded_on is not None and admission["admitted_on"] < founded_on:
            void.append(admission)
            continue
        admissions.setdefault(admission["incubator_id"], []).append(admission)
    ends: dict[str, list[Fact]] = {}
    for end in facts.get("ends", []):
        ends.setdefault(end["incubator_id"], []).append(end)
    incubations, held = [], []
    for carrier in sorted(set(admissions) | set(ends)):
        paired, waiting = pair(admissions.get(carrier, []), ends.get(carrier, []))
        incubations += [incubation(uscc, a, end) for a, end in paired]
        held += waiting
    incubations.sort(key=lambda i: (i["admitted_on"], i["incubator_id"]))
    held.sort(key=lambda e: (e["ended_on"], e["incubator_id"], e["order"]))
    void.sort(key=lambda a: (a["admitted_on"], a["incubator_id"]))
    return Derived(incubations, held, void)


def first_of_each_day(admissions: list[Fact]) -> list[Fact]:
    """One admission per carrier and day: the first by event time, then key."""
    kept: dict[tuple[str, str], Fact] = {}
    for admission in sorted(admissions, key=lambda a: (a["order"], a["key"])):
        kept.setdefault((admission["incubator_id"], admission["admitted_on"]), admission)
    return list(kept.values())


def incubation_id(uscc: str, admission: Fact) -> str:
    return f"{admission['incubator_id']}:{uscc}:{admission['admitted_on']}"


def pair(
    admissions: list[Fact], ends: list[Fact]
) -> tuple[list[tuple[Fact, Fact | None]], list[Fact]]:
    """One carrier's admissions each with its end (or None), and the ends none takes."""
    ordered = sorted(admissions, key=lambda a: (a["admitted_on"], a["order"]))
    remaining = sorted(ends, key=lambda e: (e["ended_on"], e["order"]))
    paired = []
    for n, admission in enumerate(ordered):
        until = ordered[n + 1]["admitted_on"] if n + 1 < len(ordered) else None
        inside = [
            e
            for e in remaining
            if e["ended_on"] >= admission["admitted_on"]
            and (until is None or e["ended_on"] <= until)
        ]
        end = inside[0] if inside else None
        if end is not None:
            remaining.remove(end)
        paired.append((admission, end))
    return paired, remaining


def incubation(uscc: str, admission: Fact, end: Fact | None) -> Incubation:
    record = {
        "incubation_id": incubation_id(uscc, admission),
        "incubator_id": admission["incubator_id"],
        "uscc": uscc,
        "admitted_on": admission["admitted_on"],
        "track": admission.get("track"),
        "state": "open" if end is None else end["state"],
        "ended_on": None if end is None else end["ended_on"],
        "admitted_by": admission["key"],
        "ended_by": None if end is None else end["key"],
    }
    if end is not None:
        record.update({k: end[k] for k in ("basis", "reason") if k in end})
    return record


def overlapping(incubations: list[Incubation]) -> list[tuple[Incubation, Incubation]]:
    """Pairs of incubations whose spans meet as the facts stand (an incubation without an end
    reaches to today): the first of each pair began first."""
    found = []
    for n, first in enumerate(incubations):
        for second in incubations[n + 1 :]:
            if first["ended_on"] is None or second["admitted_on"] < first["ended_on"]:
                found.append((first, second))
    return found


def add(facts: Facts, event: CloudEvent, founded_on: str | None = None) -> Facts:
    """The facts with the event's own (the same event again changes nothing), or Refused with
    why it cannot be true: dated before the firm was founded (`founded_on`, where known)."""
    kind, fact = fact_of(event)
    if any(f["key"] == fact["key"] for f in facts.get(kind, [])):
        return facts
    day = fact["admitted_on"] if kind == "admissions" else fact["ended_on"]
    name = f"data.{'admitted_on' if kind == 'admissions' else date_field(fact)}"
    if founded_on is not None and day < founded_on:
        raise Refused({name: [f"{day} is before the firm was founded, on {founded_on}"]})
    return {**facts, kind: [*facts.get(kind, []), fact]}


def date_field(end: Fact) -> str:
    return "graduated_on" if end["state"] == "graduated" else "exited_on"
