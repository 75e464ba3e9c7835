"""The incubators service's use cases: what each event changes, and which findings follow.
Each returns the findings that are new, for the service to announce."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.incubators import findings as policy
from services.incubators import lifecycle, progress
from services.incubators.lifecycle import Incubation
from services.incubators.storage import Incubators
from shared import clock
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


def enterprise_updated(store: Incubators, snapshot: dict[str, Any]) -> Found:
    with store.locks.hold(snapshot["uscc"]):
        if not store.put_firm(snapshot):
            return []
        incubations = store.incubations_of(snapshot["uscc"])
    found: Found = []
    for incubation in incubations:
        found += check_against_registry(store, incubation, snapshot)
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


def current_progress(store: Incubators, configured: dict[str, Any]) -> dict[str, Any]:
    """Progress to the plan's targets (configured targets over the defaults)."""
    tech_smes, by_year, latest = store.firm_facts()
    return progress.progress(
        store.carrier_count(),
        store.distinct_incubated_firms(),
        tech_smes,
        by_year,
        latest,
        {**progress.DEFAULT_TARGETS, **configured},
    )
