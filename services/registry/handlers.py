"""registry's use cases: apply a batch of enterprise events to the firms' records (storing each
changed record once and announcing its new snapshot once), and announce stored snapshots again
for a service that asks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.registry import records
from services.registry.records import AGAIN, APPLIED, Record
from services.registry.repository import EnterpriseRepository
from shared.batches import Batch
from shared.envelope import CloudEvent

Announce = Callable[[list[dict[str, Any]]], None]


class ChangedMeanwhile(RuntimeError):
    """Another process kept writing the firm's record while this batch applied its events."""


def apply_events(store: EnterpriseRepository, batch: Batch[CloudEvent], announce: Announce) -> None:
    """Apply every event to its firm's record (one read and one write per firm for the whole
    batch), then announce the snapshots of the records that changed.

    An event that re-applies a part already stored with its own key was applied before by an
    attempt that died before recording it: its firm's current snapshot is announced again
    (consumers take the same version twice harmlessly), so nothing it should have caused is
    lost. Events older than the part stored change nothing. The events of a firm whose write
    kept losing to another process fail, to be retried."""
    by_firm: dict[str, list[CloudEvent]] = {}
    for event in batch:
        by_firm.setdefault(event.data["uscc"], []).append(event)
    to_announce: dict[str, Record] = {}

    def apply(uscc: str, stored: Record | None) -> Record | None:
        to_announce.pop(uscc, None)  # applied again to what is stored now, after a lost write
        record = stored or records.empty(uscc)
        outcomes = {records.apply(record, event) for event in by_firm[uscc]}
        if APPLIED in outcomes:
            record["version"] += 1
        if outcomes & {APPLIED, AGAIN}:
            to_announce[uscc] = record
        return record if APPLIED in outcomes else None

    for uscc in store.update(by_firm, apply):
        to_announce.pop(uscc, None)
        for event in by_firm[uscc]:
            batch.fail(event, ChangedMeanwhile(f"{uscc} kept changing"))
    announce([records.snapshot(record) for record in to_announce.values()])


def resend_snapshots(
    store: EnterpriseRepository, batch: Batch[dict[str, Any]], announce: Announce
) -> None:
    """Announce again, at the version stored, the snapshots of the firms the batch's requests
    name (unknown firms left out)."""
    wanted = {uscc for request in batch for uscc in request["usccs"]}
    announce([records.snapshot(record) for record in store.read(wanted).values()])
