"""The incubators service's use cases: what each event changes, and which findings follow.
Each returns the findings that are new, for the service to announce."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from services.incubators import findings as policy
from services.incubators import lifecycle, progress
from services.incubators.firms import facts_of
from services.incubators.lifecycle import Incubation
from services.incubators.storage import Incubators, firm_document, stored_facts
from shared import clock
from shared.batches import Batch
from shared.envelope import CloudEvent
from shared.ingress import EventRejected
from shared.units import unit_for

Found = list[dict[str, Any]]


def keep(store: Incubators, *candidates: dict[str, Any] | None) -> Found:
    """Store the findings that apply; return the ones not announced yet."""
    return [new for found in candidates if found and (new := store.add_finding(found))]


def registered(store: Incubators, event: CloudEvent) -> Found:
    data = event.data
    carrier = {
        **data,
        "recognised_on": data["recognised_on"].isoformat(),
        "unit": unit_for(data["region_code"], data.get("zone")),
    }
    store.put_carrier(carrier, event.order_key)
    waiting = store.findings_waiting_for(carrier["incubator_id"], carrier["unit"])
    newest = store.carrier(carrier["incubator_id"])  # an older registration may arrive late
    reports = store.carrier_reports(carrier["incubator_id"])
    return waiting + shortfalls(store, newest, reports) if newest else waiting


def change_incubation(store: Incubators, event: CloudEvent, step: Any) -> Incubation:
    try:
        incubation = step(store.incubations_of(event.data["uscc"]), event)
    except lifecycle.Refused as refused:
        raise EventRejected(refused.errors) from None
    store.put_incubation(incubation)
    return incubation


def admitted(store: Incubators, event: CloudEvent) -> Found:
    with store.locks.hold(event.data["uscc"]):
        incubation = change_incubation(store, event, lifecycle.admit)
    return check_against_registry(store, incubation, store.firm(incubation["uscc"]))


def graduated(store: Incubators, event: CloudEvent) -> Found:
    with store.locks.hold(event.data["uscc"]):
        incubation = change_incubation(store, event, lifecycle.graduate)
    found = check_against_registry(store, incubation, store.firm(incubation["uscc"]))
    return found + keep(store, policy.overdue(incubation, clock.today()))


def exited(store: Incubators, event: CloudEvent) -> Found:
    with store.locks.hold(event.data["uscc"]):
        incubation = change_incubation(store, event, lifecycle.exit_)
    return keep(store, policy.overdue(incubation, clock.today()))


def check_against_registry(
    store: Incubators, incubation: Incubation, snapshot: dict[str, Any] | None
) -> Found:
    """Checks that need the registry's data; run again when a snapshot arrives later."""
    if snapshot is None or snapshot.get("profile") is None:
        return []
    late = policy.late_admission(incubation, snapshot["profile"]["founded_on"])
    unsupported = (
        policy.unsupported_graduation(incubation, snapshot)
        if incubation["state"] == "graduated"
        else None
    )
    return keep(store, late, unsupported)


def enterprise_updated(store: Incubators, batch: Batch[dict[str, Any]]) -> Found:
    """Keep the newest registry facts of the firms it incubates (or did), then check their
    incubations against them; other firms' snapshots change nothing here. An older snapshot
    changes nothing; the one stored, redelivered, checks again, so findings a crash left
    unannounced are announced."""
    newest: dict[str, dict[str, Any]] = {}
    for snapshot in batch:
        held = newest.get(snapshot["uscc"])
        if held is None or snapshot["version"] > held["version"]:
            newest[snapshot["uscc"]] = snapshot
    current: dict[str, dict[str, Any]] = {}  # the facts stored after this batch, to check

    def keep_newest(uscc: str, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        snapshot = newest[uscc]
        if stored is not None and stored["version"] >= snapshot["version"]:
            if stored["version"] == snapshot["version"]:
                current[uscc] = stored_facts(stored)
            return None
        current[uscc] = facts_of(snapshot)
        return firm_document(snapshot)

    with store.locks.hold_all(newest):  # an admission checks against what is stored here
        incubations = store.incubations_of_firms(list(newest))
        for uscc in store.firms.update(incubations, keep_newest):
            current.pop(uscc, None)
            for snapshot in batch:
                if snapshot["uscc"] == uscc:
                    batch.fail(snapshot, RuntimeError(f"{uscc}'s facts kept changing"))
    found: Found = []
    for uscc, facts in current.items():
        for incubation in incubations[uscc]:
            found += check_against_registry(store, incubation, facts)
    return found


def firms_without_facts(store: Incubators, batch: Batch[CloudEvent]) -> list[str]:
    """Firms the batch's life-cycle events were about whose registry facts are not kept here
    yet (first incubations): the registry is asked to announce them again."""
    firms = {event.data["uscc"] for event in batch.handled() if "uscc" in event.data}
    return sorted(firms - set(store.firms.read(firms)))


def on_events(store: Incubators, batch: Batch[CloudEvent]) -> Found:
    """Each event of the batch on its own (an event that fails fails alone)."""
    found: Found = []
    for event in batch:
        with batch.each(event):
            found += HANDLERS[event.type](store, event)
    return found


def carrier_report(store: Incubators, event: CloudEvent) -> Found:
    """Checked at once if the carrier is known, else when its registration arrives."""
    report = dict(event.data)
    store.put_carrier_report(report)
    carrier = store.carrier(report["incubator_id"])
    return shortfalls(store, carrier, [report]) if carrier else []


def shortfalls(store: Incubators, carrier: dict[str, Any], reports: list[dict[str, Any]]) -> Found:
    """A carrier's reports against the national thresholds its grade must meet."""
    counts = store.counts(carrier["incubator_id"])
    return keep(
        store, *(f for r in reports for f in policy.national_shortfalls(carrier, r, counts))
    )


def sweep(store: Incubators, today: date) -> Found:
    """The periodic check for incubations beyond their limit."""
    return keep(store, *(policy.overdue(i, today) for i in store.open_incubations()))


HANDLERS: dict[str, Callable[[Incubators, CloudEvent], Found]] = {
    "incubator.registered": registered,
    "incubator.firm_admitted": admitted,
    "incubator.firm_graduated": graduated,
    "incubator.firm_exited": exited,
    "incubator.annual_report": carrier_report,
}


def current_progress(
    store: Incubators, configured: dict[str, Any], firms: dict[str, Any]
) -> dict[str, Any]:
    """Progress to the plan's targets (configured targets over the defaults): carriers and
    incubated firms from here, the firms' facts as the registry counts them (`firms`)."""
    return progress.progress(
        store.carrier_count(),
        store.distinct_incubated_firms(),
        firms["tech_smes_registered"],
        Counter({int(year): n for year, n in firms["high_tech_by_year"].items()}),
        Counter({int(year): n for year, n in firms["latest_years"].items()}),
        {**progress.DEFAULT_TARGETS, **configured},
    )
