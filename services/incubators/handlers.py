"""incubators' use cases: what a batch of events changes (carriers, their reports, firms' life
cycles, firms' registry facts), which findings that raises or withdraws, and their announcement
to the units; the overdue sweep and the incubator rule sets' activation. Each takes its storage
as an IncubatorsRepository. Those that bring findings up to date return the findings whose
state changed (or whose announcement a crash interrupted), to be announced."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Protocol

from services.incubators import findings as policy
from services.incubators import lifecycle
from services.incubators.documents import firm_document, public, with_facts
from services.incubators.lifecycle import Derived, Facts
from services.incubators.repository import IncubatorsRepository as Store
from services.incubators.repository import RuleBook
from services.incubators.rules import IncubatorRules, parse_rules
from shared.auth import ask
from shared.batches import Batch
from shared.domain import clock
from shared.domain.units import unit_for
from shared.envelope import CloudEvent
from shared.http import Problem
from shared.ingress import EventRejected

Found = list[dict[str, Any]]
LIFE_CYCLE = ("incubator.firm_admitted", "incubator.firm_graduated", "incubator.firm_exited")
SYNC_CHUNK = 200  # firms whose findings are brought up to date in one pass


class ChangedMeanwhile(RuntimeError):
    """Another writer kept changing the firm's life cycle while this batch applied its events."""


class Dispatch(Protocol):
    """The service's event dispatcher (shared/events.py)."""

    def __call__(self, event_type: str, payload: dict[str, Any]) -> None: ...

    def many(self, events: Iterable[tuple[str, dict[str, Any]]]) -> None: ...


FoundingDates = Callable[[list[str]], dict[str, str]]


def founding_dates_from(registry: Any, usccs: list[str]) -> dict[str, str]:
    """When firms were founded, as the registry knows (nothing, if it does not answer:
    findings judge their admissions once their facts arrive)."""
    try:
        return dict(ask(registry, "founding_dates", usccs))
    except Problem:
        return {}


def announced(finding: dict[str, Any]) -> dict[str, Any]:
    """The `incubator_finding` event of a finding's state: an id of its own per state, so the
    unit gets an alert when a finding is raised, when it is withdrawn and if it comes back."""
    return {**public(finding), "event_id": f"{finding['finding_id']}#{finding['revision']}"}


def announce(store: Store, dispatch: Dispatch, found: Found) -> None:
    """Findings raised, withdrawn or raised again, to their units; each is marked announced at
    its revision once dispatched (a crash in between announces it again)."""
    if found:
        dispatch.many(("incubator_finding", announced(f)) for f in found)
        store.mark_announced(found)


def on_events(
    store: Store,
    rules: IncubatorRules,
    batch: Batch[CloudEvent],
    founding_dates: FoundingDates,
) -> Found:
    """The batch's carrier registrations and reports, then its life-cycle events, each firm's
    at once; then the findings of every firm and carrier they touched. `founding_dates` asks
    the registry when firms not incubated here before were founded (an admission before that
    cannot be true)."""
    carriers: set[str] = set()
    registered: dict[str, str] = {}
    for event in sorted(batch, key=lambda e: e.order_key):
        if event.type == "incubator.registered":
            with batch.each(event):
                registered[event.data["incubator_id"]] = put_carrier(store, event)
        elif event.type == "incubator.annual_report":
            with batch.each(event):
                store.put_carrier_report(dict(event.data), event.order_key)
        carriers.add(event.data["incubator_id"])
    life_cycle = [e for e in batch if e.type in LIFE_CYCLE]
    firms = apply_life_cycles(store, batch, life_cycle, founding_dates)
    found = sync_firms(store, rules, firms, clock.today())
    found += sync_carriers(store, rules, carriers)
    for incubator_id, unit in registered.items():
        found += store.findings_waiting_for(incubator_id, unit)
    return unique(found)


def put_carrier(store: Store, event: CloudEvent) -> str:
    """Store a registration (the newest wins); the carrier's unit."""
    data = event.data
    unit = unit_for(data["region_code"], data.get("zone"))
    carrier = {**data, "recognised_on": data["recognised_on"].isoformat(), "unit": unit}
    store.put_carrier(carrier, event.order_key)
    return unit


def apply_life_cycles(
    store: Store,
    batch: Batch[CloudEvent],
    events: list[CloudEvent],
    founding_dates: FoundingDates,
) -> list[str]:
    """Add each firm's events to its facts and store the incubations derived from them; events
    that cannot be true are refused (what the registry does not know yet is judged once it
    does). The firms whose life cycle was looked at."""
    by_firm: dict[str, list[CloudEvent]] = {}
    for event in events:
        by_firm.setdefault(event.data["uscc"], []).append(event)
    if not by_firm:
        return []
    refused: dict[str, dict[int, lifecycle.Refused]] = {}

    def add_events(uscc: str, facts: Facts) -> Facts:
        refused[uscc] = {}
        for event in by_firm[uscc]:
            try:
                facts = lifecycle.add(facts, event, founded.get(uscc))
            except lifecycle.Refused as exc:
                refused[uscc][id(event)] = exc
        return facts

    with store.hold_firms(by_firm):  # a snapshot's check reads what is stored here
        founded = founding_dates_of(store, sorted(by_firm), founding_dates)
        lost = derive_and_store(store, list(by_firm), founded, add_events)
    for uscc, events_of_firm in by_firm.items():
        for event in events_of_firm:
            if uscc in lost:
                batch.fail(event, ChangedMeanwhile(f"{uscc} kept changing"))
            elif id(event) in refused.get(uscc, {}):
                batch.fail(event, EventRejected(refused[uscc][id(event)].errors))
    return sorted(by_firm)


def derive_and_store(
    store: Store,
    usccs: list[str],
    founded: dict[str, str],
    change: Callable[[str, Facts], Facts] = lambda uscc, facts: facts,
) -> set[str]:
    """Derive the firms' incubations from their facts (after `change`) and founding dates, and
    store those that differ, in the firm's document and in its carriers' maps (an incubation
    that became void leaves them). The firms whose write kept losing."""
    noted: dict[str, list[dict[str, Any]]] = {}  # by firm: the last attempt's
    gone: dict[str, list[dict[str, Any]]] = {}

    def apply(uscc: str, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        document = with_facts(stored) if stored else {"facts": {"admissions": [], "ends": []}}
        facts = change(uscc, document["facts"])
        derived = lifecycle.derive(uscc, facts, founded.get(uscc))
        kept = {i["incubation_id"] for i in derived.incubations}
        before = document.get("items", [])
        if facts is document["facts"] and (derived.incubations, derived.held, derived.void) == (
            before,
            document.get("held", []),
            document.get("void", []),
        ):
            return None
        noted[uscc] = derived.incubations
        gone[uscc] = [i for i in before if i["incubation_id"] not in kept]
        return {
            "_id": uscc,
            "uscc": uscc,
            "facts": facts,
            "items": derived.incubations,
            "held": derived.held,
            "void": derived.void,
        }

    lost = store.update_lifecycles(usccs, apply)
    store.note_in_carriers(
        [i for uscc, items in noted.items() if uscc not in lost for i in items],
        [i for uscc, items in gone.items() if uscc not in lost for i in items],
    )
    return lost


def founding_dates_of(
    store: Store, usccs: list[str], ask_registry: FoundingDates
) -> dict[str, str]:
    """When the firms were founded: from the registry facts kept here, else asked of the
    registry (a firm not incubated before); unknown where the registry does not know it yet
    or does not answer (then findings judge the admission once its facts arrive)."""
    kept = {
        uscc: facts["profile"]["founded_on"]
        for uscc, facts in store.registry_facts(usccs).items()
        if facts.get("profile")
    }
    unknown = [uscc for uscc in usccs if uscc not in kept]
    if unknown:
        kept.update(ask_registry(unknown))
    return kept


def enterprise_updated(store: Store, rules: IncubatorRules, batch: Batch[dict[str, Any]]) -> Found:
    """Keep the newest registry facts of the firms it incubates (or did), then bring their
    findings up to date; other firms' snapshots change nothing here. An older snapshot changes
    nothing; the one stored, redelivered, syncs again, so findings a crash left unannounced
    are announced."""
    newest: dict[str, dict[str, Any]] = {}
    for snapshot in batch:
        held = newest.get(snapshot["uscc"])
        if held is None or snapshot["version"] > held["version"]:
            newest[snapshot["uscc"]] = snapshot
    looked_at: set[str] = set()

    def keep_newest(uscc: str, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        snapshot = newest[uscc]
        if stored is not None and stored["version"] >= snapshot["version"]:
            if stored["version"] == snapshot["version"]:
                looked_at.add(uscc)
            return None
        looked_at.add(uscc)
        return firm_document(snapshot)

    with store.hold_firms(newest):  # an admission checks against what is stored here
        incubated = sorted(store.incubated_firms(list(newest)))
        lost = store.update_firms(incubated, keep_newest)
        looked_at -= lost
        founded = {uscc: founded_on(newest[uscc]) for uscc in looked_at}
        lost |= derive_and_store(store, sorted(looked_at), {k: v for k, v in founded.items() if v})
    for uscc in lost:
        looked_at.discard(uscc)
        for snapshot in batch:
            if snapshot["uscc"] == uscc:
                batch.fail(snapshot, RuntimeError(f"{uscc}'s facts kept changing"))
    return sync_firms(store, rules, sorted(looked_at), clock.today())


def founded_on(snapshot: dict[str, Any]) -> str | None:
    return (snapshot.get("profile") or {}).get("founded_on")


def firms_without_facts(store: Store, batch: Batch[CloudEvent]) -> list[str]:
    """Firms the batch's life-cycle events were about whose registry facts are not kept here
    yet (first incubations)."""
    firms = {event.data["uscc"] for event in batch.handled() if event.type in LIFE_CYCLE}
    return sorted(firms - store.known_firms(firms))


def ask_for_snapshots(store: Store, batch: Batch[CloudEvent], dispatch: Dispatch) -> None:
    """The registry is asked to announce again the firms whose facts are not kept here."""
    wanted = firms_without_facts(store, batch)
    if wanted:
        dispatch("snapshots_wanted", {"usccs": wanted})


def firm_state(
    rules: IncubatorRules,
    uscc: str,
    document: dict[str, Any],
    registry: dict[str, Any] | None,
    today: date,
) -> tuple[set[str], list[dict[str, Any]]]:
    """A firm's candidate finding ids and its findings now."""
    derived = Derived(document.get("items", []), document.get("held", []), document.get("void", []))
    candidates = policy.candidates_of_firm(uscc, document["facts"])
    return candidates, policy.firm_findings(rules, uscc, derived, registry, today)


def sync_firms(store: Store, rules: IncubatorRules, usccs: Iterable[str], today: date) -> Found:
    """Bring the findings of these firms up to date, SYNC_CHUNK firms a pass."""
    found = []
    for chunk in chunks(sorted(set(usccs)), SYNC_CHUNK):
        documents = store.lifecycles_of(chunk)
        registry = store.registry_facts(documents)
        candidates, current = set(), []
        for uscc, document in documents.items():
            ids, now = firm_state(rules, uscc, document, registry.get(uscc), today)
            candidates |= ids
            current += now
        found += sync(store, rules, candidates, current)
    return found


def carrier_state(
    store: Store, rules: IncubatorRules, incubator_id: str
) -> tuple[set[str], list[dict[str, Any]]]:
    reports = store.carrier_reports(incubator_id)
    candidates = policy.candidates_of_carrier(incubator_id, [r["year"] for r in reports])
    carrier = store.carrier(incubator_id)
    if carrier is None:  # checked when it registers
        return set(), []
    items = store.carrier_items(incubator_id)
    current = [f for r in reports for f in policy.national_shortfalls(rules, carrier, r, items)]
    return candidates, current


def sync_carriers(store: Store, rules: IncubatorRules, incubator_ids: Iterable[str]) -> Found:
    """Bring the national-threshold findings of these carriers up to date (their registration,
    a report, or their incubations' counts at a year's end may have changed)."""
    candidates, current = set(), []
    for incubator_id in sorted(set(incubator_ids)):
        ids, now = carrier_state(store, rules, incubator_id)
        candidates |= ids
        current += now
    return sync(store, rules, candidates, current)


def sync(
    store: Store, rules: IncubatorRules, candidates: set[str], current: list[dict[str, Any]]
) -> Found:
    """Store what makes the stored findings among `candidates` exactly `current`; those to
    announce (a changed state, or an announcement a crash interrupted), once their unit is
    known."""
    if not candidates and not current:
        return []
    stored = store.stored_findings(candidates | {f["finding_id"] for f in current})
    subjects = {f["incubator_id"] for f in current} | {f["incubator_id"] for f in stored.values()}
    changes = policy.reconcile(
        candidates, current, stored, store.carrier_units(subjects), rules.label, clock.now()
    )
    store.apply_findings(changes)
    changed = {c.document["finding_id"] for c in changes}
    pending = [c.document for c in changes if c.announce]
    pending += [
        f for i, f in stored.items() if i not in changed and f["announced_revision"] < f["revision"]
    ]
    return [f for f in pending if f.get("unit")]


def sweep(store: Store, rules: IncubatorRules, today: date) -> Found:
    """The periodic check of open incubations against their limit, as of `today`."""
    firms = [
        uscc
        for uscc, document in store.all_lifecycles()
        if any(i["state"] == "open" for i in document.get("items", []))
    ]
    return sync_firms(store, rules, firms, today)


def resync(store: Store, rules: IncubatorRules, today: date) -> Found:
    """Every firm's and every carrier's findings under `rules` (a rule set just activated)."""
    found = sync_firms(store, rules, [uscc for uscc, _ in store.all_lifecycles()], today)
    return found + sync_carriers(store, rules, store.carriers())


def load_rules(rulebook: RuleBook, text: str) -> dict[str, Any]:
    """Validate and keep a rule set (not active until activated)."""
    rules = parse_rules(text)
    rulebook.store(rules)
    return {"id": rules.id, "version": rules.version, "title": rules.title}


def activate_rules(
    store: Store, rulebook: RuleBook, dispatch: Dispatch, rules_id: str, today: date
) -> dict[str, Any]:
    """Make a loaded rule set the province's, then bring every finding up to date under it
    and announce what changed."""
    rules = rulebook.get(rules_id, fresh=True)
    rulebook.set_active(rules)
    found = resync(store, rules, today)
    announce(store, dispatch, found)
    return {"rules": rules.label, "findings_changed": len(found)}


def simulate(
    store: Store, candidate: IncubatorRules, today: date, shown: int = 50
) -> dict[str, Any]:
    """Which findings would appear and which would go if `candidate` were active. Reads only."""
    would: dict[str, dict[str, Any]] = {}
    for chunk in chunks([uscc for uscc, _ in store.all_lifecycles()], SYNC_CHUNK):
        documents = store.lifecycles_of(chunk)
        registry = store.registry_facts(documents)
        for uscc, document in documents.items():
            would.update(
                {
                    f["finding_id"]: f
                    for f in firm_state(candidate, uscc, document, registry.get(uscc), today)[1]
                }
            )
    for incubator_id in store.carriers():
        would.update({f["finding_id"]: f for f in carrier_state(store, candidate, incubator_id)[1]})
    open_now = {f["finding_id"]: f for f in store.open_findings()}
    appear = [f for i, f in would.items() if i not in open_now]
    go = [f for i, f in open_now.items() if i not in would]
    return {
        "rules": candidate.label,
        "open_now": len(open_now),
        "open_then": len(would),
        "appear": summary(appear, shown),
        "go": summary(go, shown),
    }


def summary(found: list[dict[str, Any]], shown: int) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    for f in found:
        by_kind[f["kind"]] = by_kind.get(f["kind"], 0) + 1
    keep = ("finding_id", "kind", "incubator_id", "uscc", "detail")
    return {
        "count": len(found),
        "by_kind": by_kind,
        "examples": [{k: f.get(k) for k in keep} for f in found[:shown]],
    }


def chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def unique(found: Found) -> Found:
    """Each finding once (the last state found of it)."""
    return list({f["finding_id"]: f for f in found}.values())
