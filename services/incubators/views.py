"""What the incubators service's reads answer: a carrier (for a key in its reach, and the
portal's page of it), a unit's carriers, progress to the plan's targets, the findings' summary
and the rule sets loaded."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from services.incubators import progress as plan
from services.incubators.documents import tally
from services.incubators.repository import IncubatorsRepository as Store
from services.incubators.repository import RuleBook
from services.incubators.rules import IncubatorRules
from shared import scope
from shared.auth import ask
from shared.cache import TtlCache
from shared.http import Problem
from shared.scope import Principal

PROGRESS_SECONDS = 30.0
PROGRESS = TtlCache(max_entries=10)
CARRIERS_SECONDS = 30.0
CARRIER_PAGES = TtlCache(max_entries=1000)
CARRIER_FIELDS = ("incubator_id", "name", "kind", "grade", "region_code", "zone", "unit")
FirmCounts = Callable[[], dict[str, Any]]  # the registry's counts of the firms, when needed


def with_limits(rules: IncubatorRules, incubations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Incubations with the limit their track has under the active rules (48 or 60 months)."""
    return [{**i, "limit_months": rules.limit_for(i.get("track"))} for i in incubations]


def rules_listing(rulebook: RuleBook) -> dict[str, Any]:
    return {"loaded": rulebook.listing(), "active": rulebook.active_id(fresh=True)}


def findings_summary(store: Store, principal: Principal) -> dict[str, Any]:
    """`GET /v1/findings/summary`: the province's figures, for keys that read everything."""
    scope.require_everything(principal)
    by_kind: Counter = Counter()
    by_unit: Counter = Counter()
    for (kind, unit), n in open_findings_by_kind_and_unit(store).items():
        by_kind[kind] += n
        by_unit[unit] += n
    return {"total": sum(by_kind.values()), "by_kind": dict(by_kind), "by_unit": dict(by_unit)}


def open_findings_by_kind_and_unit(store: Store) -> Counter:
    return Counter((f["kind"], f.get("unit") or "unknown") for f in store.open_findings())


def counts_by_unit(store: Store) -> dict[str, dict[str, int]]:
    """Incubations counted by their carrier's unit (`unknown`: not registered yet)."""
    units = {c["incubator_id"]: c.get("unit") for c in store.carriers().values()}
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for incubation in store.all_incubations():
        unit = units.get(incubation["incubator_id"]) or "unknown"
        by_unit.setdefault(unit, []).append(incubation)
    return {unit: tally(items) for unit, items in sorted(by_unit.items())}


def current_progress(
    store: Store, configured: dict[str, Any], firms: dict[str, Any]
) -> dict[str, Any]:
    """Progress to the plan's targets (configured targets over the defaults): carriers and
    incubated firms from here, the firms' facts as the registry counts them (`firms`)."""
    return plan.progress(
        store.carrier_count(),
        store.distinct_incubated_firms(),
        firms["tech_smes_registered"],
        Counter({int(year): n for year, n in firms["high_tech_by_year"].items()}),
        Counter({int(year): n for year, n in firms["latest_years"].items()}),
        {**plan.DEFAULT_TARGETS, **configured},
    )


def incubator(store: Store, rules: IncubatorRules, incubator_id: str) -> dict[str, Any]:
    """A carrier, the firms it incubates now, its counts and its findings."""
    carrier = store.carrier(incubator_id)
    if carrier is None:
        raise Problem(404, "Not Found", f"no incubator {incubator_id}")
    return {
        "incubator": carrier,
        "current_incubatees": with_limits(rules, open_incubations(store, incubator_id)),
        "counts": store.counts(incubator_id),
        "findings": store.findings_of(incubator_id),
    }


def open_incubations(store: Store, incubator_id: str) -> list[dict[str, Any]]:
    """A carrier's open incubations: its map names the firms, their documents the rest."""
    items = store.carrier_items(incubator_id)
    usccs = sorted({i["uscc"] for i in items if i["state"] == "open"})
    if not usccs:
        return []
    return [
        i
        for found in store.incubations_of_firms(usccs).values()
        for i in found
        if i["state"] == "open" and i["incubator_id"] == incubator_id
    ]


def firm_counts(registry: Any) -> dict[str, Any]:
    """What the registry counts of the firms (technology SMEs, high-tech certificates), or a 503
    that says the registry does not answer."""
    return dict(ask(registry, "progress_facts"))


def progress(store: Store, targets: dict[str, Any], firms: dict[str, Any]) -> dict[str, Any]:
    """The province against the plan's targets, with counts per city unit."""
    return {**current_progress(store, targets, firms), "by_unit": counts_by_unit(store)}


def scoped_incubator(
    store: Store, rules: IncubatorRules, principal: Principal, incubator_id: str
) -> dict[str, Any]:
    """`GET /v1/incubators/{id}` for a key: its own carrier, or a carrier of its unit."""
    carrier = store.carrier(incubator_id)
    if carrier is None:
        raise Problem(404, "Not Found", f"no incubator {incubator_id}")
    scope.require_carrier(principal, incubator_id, carrier.get("unit"))
    return incubator(store, rules, incubator_id)


def scoped_progress(
    store: Store, principal: Principal, targets: dict[str, Any], firms: FirmCounts
) -> dict[str, Any]:
    """`GET /v1/progress`: the province's figures for unit keys too (they are the plan's
    headline), but the counts of the key's own unit only; carriers' keys are refused."""
    unit = scope.unit_filter(principal, None)
    answer = cached_progress(store, targets, firms)
    if unit is None:
        return answer
    return {**answer, "by_unit": {k: v for k, v in answer["by_unit"].items() if k == unit}}


def cached_progress(store: Store, targets: dict[str, Any], firms: FirmCounts) -> dict[str, Any]:
    """Progress reads every incubation, and the registry's counts: computed at most every
    PROGRESS_SECONDS."""
    known, answer = PROGRESS.get(id(store))
    if not known:
        answer = progress(store, targets, firms())
        PROGRESS.put(id(store), answer, PROGRESS_SECONDS)
    return answer


def carriers_of(
    store: Store, unit: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """A unit's carriers (every unit's with None) in id order after `after`, each with its
    counts and how many of its findings are open; kept CARRIERS_SECONDS (it reads every
    carrier and finding)."""
    key = (id(store), unit, after, limit)
    known, found = CARRIER_PAGES.get(key)
    if not known:
        found = read_carriers(store, unit, after, limit)
        CARRIER_PAGES.put(key, found, CARRIERS_SECONDS)
    return found


def read_carriers(
    store: Store, unit: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    chosen = sorted(
        (c for c in store.carriers().values() if unit is None or c.get("unit") == unit),
        key=lambda c: c["incubator_id"],
    )
    page = [c for c in chosen if after is None or c["incubator_id"] > after][: min(limit, 500)]
    ids = [c["incubator_id"] for c in page]
    open_findings = store.open_findings_of(ids)
    return [
        {
            **{k: c.get(k) for k in CARRIER_FIELDS},
            "counts": store.counts(c["incubator_id"]),
            "open_findings": open_findings.get(c["incubator_id"], 0),
        }
        for c in page
    ]


def incubations_of_firms(store: Store, usccs: list[str]) -> list[dict[str, Any]]:
    """Every incubation of these firms, in one `_id: {$in}` read (indexed on FerretDB too)."""
    return [i for items in store.incubations_of_firms(usccs).values() for i in items]


def carrier_page(
    store: Store, rules: IncubatorRules, incubator_id: str, past_after: str | None, limit: int
) -> dict[str, Any] | None:
    """The portal's carrier page: the carrier, its current incubatees, a page of its past
    incubations (keyset on the firm's USCC), its findings and its yearly reports; the carrier's
    map of its incubations is read once."""
    carrier = store.carrier(incubator_id)
    if carrier is None:
        return None
    items = store.carrier_items(incubator_id)
    wanted = {i["uscc"] for i in items if i["state"] == "open"}
    ended = sorted({i["uscc"] for i in items if i["state"] != "open"})
    past_usccs = [u for u in ended if past_after is None or u > past_after][: min(limit, 500)]
    incubations = incubations_of_firms(store, sorted(wanted | set(past_usccs)))
    mine = with_limits(rules, [i for i in incubations if i["incubator_id"] == incubator_id])
    return {
        "incubator": carrier,
        "current_incubatees": [i for i in mine if i["state"] == "open"],
        "counts": tally(items),
        "findings": store.findings_of(incubator_id),
        "past": [i for i in mine if i["state"] != "open" and i["uscc"] in past_usccs],
        "past_next": past_usccs[-1] if len(past_usccs) == limit else None,
        "reports": store.carrier_reports(incubator_id),
    }
