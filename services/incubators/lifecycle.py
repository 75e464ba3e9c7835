"""The incubation life cycle: admitted, then graduated or exited. Plain functions, no I/O.

A firm is incubated by one carrier at a time; data that cannot be true (a second open
admission, an end at a carrier while the firm is incubated elsewhere, dates running backwards)
is refused with the field and the reason. An end for a firm with no open incubation at all may
simply have overtaken its admission (both posted in one batch, handled by two replicas): it is
retried, not refused. The same event applied twice returns the same record (delivery is at
least once).
"""

from __future__ import annotations

from typing import Any

from shared.envelope import CloudEvent

Incubation = dict[str, Any]
DEFAULT_LIMIT_MONTHS = 48
LONG_TRACK_LIMIT_MONTHS = 60  # biomedicine, IC design, modern agriculture
LONG_TRACKS = ("biomedicine", "ic_design", "modern_agriculture")


class Refused(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {v[0]}" for k, v in errors.items()))
        self.errors = errors


class AdmissionPending(Exception):
    """An end for a firm with no open incubation: its admission may not have been applied yet,
    so the event is retried like any transient failure (and parked if it never arrives)."""


def event_key(event: CloudEvent) -> str:
    return f"{event.source}|{event.id}"


def limit_months(track: str | None) -> int:
    return LONG_TRACK_LIMIT_MONTHS if track in LONG_TRACKS else DEFAULT_LIMIT_MONTHS


def admit(history: list[Incubation], event: CloudEvent) -> Incubation:
    """The new open incubation for an `incubator.firm_admitted` event."""
    data = event.data
    admitted_on = data["admitted_on"].isoformat()
    for incubation in history:
        if incubation["admitted_by"] == event_key(event):
            return incubation  # this very event, applied before
        if incubation["state"] == "open":
            raise Refused(
                {
                    "data.uscc": [
                        f"already incubated by {incubation['incubator_id']} since "
                        f"{incubation['admitted_on']}; a firm has one carrier at a time"
                    ]
                }
            )
    ended = [i["ended_on"] for i in history if i.get("ended_on")]
    if ended and admitted_on < max(ended):
        raise Refused(
            {
                "data.admitted_on": [
                    f"{admitted_on} is before the end ({max(ended)}) of the firm's "
                    "previous incubation"
                ]
            }
        )
    incubation_id = f"{data['incubator_id']}:{data['uscc']}:{admitted_on}"
    taken = sum(1 for i in history if i["incubation_id"].startswith(incubation_id))
    if taken:  # readmitted on the day its last incubation here ended: keep both apart
        incubation_id = f"{incubation_id}:{taken + 1}"
    return {
        "incubation_id": incubation_id,
        "incubator_id": data["incubator_id"],
        "uscc": data["uscc"],
        "admitted_on": admitted_on,
        "track": data.get("track"),
        "limit_months": limit_months(data.get("track")),
        "state": "open",
        "ended_on": None,
        "admitted_by": event_key(event),
        "ended_by": None,
    }


def end(
    history: list[Incubation],
    event: CloudEvent,
    state: str,
    date_field: str,
    detail: dict[str, Any],
) -> Incubation:
    """The incubation closed by a graduation (state "graduated") or an exit ("exited")."""
    data = event.data
    for incubation in history:
        if incubation.get("ended_by") == event_key(event):
            return incubation  # this very event, applied before
    current = [
        i for i in history if i["state"] == "open" and i["incubator_id"] == data["incubator_id"]
    ]
    if not current:
        elsewhere = [i["incubator_id"] for i in history if i["state"] == "open"]
        if not elsewhere:
            raise AdmissionPending(
                f"{data['uscc']} has no open admission at {data['incubator_id']} (yet)"
            )
        raise Refused(
            {
                "data.uscc": [
                    f"{data['uscc']} has no open admission at {data['incubator_id']}; "
                    f"it is incubated by {elsewhere[0]}"
                ]
            }
        )
    incubation = current[0]
    ended_on = data[date_field].isoformat()
    if ended_on < incubation["admitted_on"]:
        raise Refused(
            {
                f"data.{date_field}": [
                    f"{ended_on} is before the admission on {incubation['admitted_on']}"
                ]
            }
        )
    return {
        **incubation,
        **detail,
        "state": state,
        "ended_on": ended_on,
        "ended_by": event_key(event),
    }


def graduate(history: list[Incubation], event: CloudEvent) -> Incubation:
    return end(history, event, "graduated", "graduated_on", {"basis": event.data["basis"]})


def exit_(history: list[Incubation], event: CloudEvent) -> Incubation:
    return end(history, event, "exited", "exited_on", {"reason": event.data["reason"]})
