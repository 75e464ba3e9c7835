"""The incubation life cycle, order-free. Plain functions, no I/O.

A firm's life-cycle events are kept as facts: its admissions (a carrier, a day, a track) and the
ends of its incubations (graduated or exited, at a carrier, on a day). Its incubations are
derived from the facts alone, so any arrival order, and any repeat, gives the same ones:

- at each carrier, the earliest end after an admission (up to and including the day of the
  carrier's next admission, so a readmission on the day an incubation ended is one of its own)
  ends it;
- an end no admission takes yet is held (an end before any admission at its carrier, or a
  second end inside one admission's window) and is paired as soon as the admission it belongs
  to arrives: carriers send their history late, and back-fill it.

Only what no later event could make true is refused when it arrives: two admissions of the firm
on one day, or an admission or an end before the firm was founded (once the founding date is
known). Everything else that the data does not (yet) add up to is a finding that follows the
data (findings.py): incubations that overlap as the facts stand, or an end waiting for its
admission.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def derive(uscc: str, facts: Facts) -> Derived:
    """The firm's incubations from its facts (see the module docstring)."""
    admissions: dict[str, list[Fact]] = {}
    for admission in facts.get("admissions", []):
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
    return Derived(incubations, held)


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
        "incubation_id": f"{admission['incubator_id']}:{uscc}:{admission['admitted_on']}",
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
    why it cannot be true whatever else arrives."""
    kind, fact = fact_of(event)
    if any(f["key"] == fact["key"] for f in facts.get(kind, [])):
        return facts
    day = fact["admitted_on"] if kind == "admissions" else fact["ended_on"]
    field = f"data.{'admitted_on' if kind == 'admissions' else date_field(fact)}"
    if founded_on is not None and day < founded_on:
        raise Refused({field: [f"{day} is before the firm was founded, on {founded_on}"]})
    if kind == "admissions":
        for other in facts.get("admissions", []):
            if other["admitted_on"] == day:
                raise Refused(
                    {
                        field: [
                            f"the firm was admitted at {other['incubator_id']} on {day} already: "
                            "a firm has one carrier at a time"
                        ]
                    }
                )
    return {**facts, kind: [*facts.get(kind, []), fact]}


def date_field(end: Fact) -> str:
    return "graduated_on" if end["state"] == "graduated" else "exited_on"
