"""The portal's read model: its lists, kept in memory (every firm's name, unit, tier, industry,
founding date, latest report year and watch entry, and every tier change, grouped by unit and
sorted), rebuilt from the database at most every `READ_MODEL_SECONDS` (default 60).

Why: the local FerretDB serves a query on anything but `_id` by reading the whole collection
(README), so a page listing a unit's firms or changes would read 21,000 documents each time
(measured: 1 s for a page at 2,100 firms). One read every minute serves every page in between
from memory. The lists are therefore up to a minute behind the database; the firm page reads
the firm itself. The first build happens on the first request; later ones in the background,
while the previous copy is served."""

from __future__ import annotations

import logging
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import eventlet
from eventlet import GreenPool
from eventlet.semaphore import Semaphore

from services.tiering.storage import Tiers
from shared.domain.units import PROVINCE
from shared.injection import Injects

log = logging.getLogger(__name__)
ALL = PROVINCE  # the key of the lists of every unit
Row = dict[str, Any]
FIRM_FIELDS = ("uscc", "name", "unit", "tier", "watch", "snapshot")  # what the rows are made of


def firm_row(record: dict[str, Any]) -> Row:
    snapshot = record.get("snapshot") or {}
    profile = snapshot.get("profile") or {}
    reports = snapshot.get("annual_reports") or []
    return {
        "uscc": record["uscc"],
        "name": record.get("name"),
        "unit": record.get("unit"),
        "tier": record.get("tier"),
        "industry": profile.get("industry"),
        "founded_on": profile.get("founded_on"),
        "latest_year": max((r["year"] for r in reports), default=None),
        "watch": record.get("watch"),
    }


@dataclass
class Lists:
    # keyed by unit, and ALL; None gathers the firms and changes stored without a unit
    firms: dict[str | None, list[Row]] = field(default_factory=lambda: defaultdict(list))
    changes: dict[str | None, list[Row]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str | None, Counter] = field(default_factory=lambda: defaultdict(Counter))
    built_at: float = 0.0


def build(tiers: Tiers) -> Lists:
    lists = Lists()
    for record in tiers.every_firm(FIRM_FIELDS):
        row = firm_row(record)
        for key in {ALL, row["unit"]}:
            lists.firms[key].append(row)
            lists.counts[key][row["tier"]] += 1
    for rows in lists.firms.values():
        rows.sort(key=lambda r: r["uscc"])
    for change in tiers.every_change():
        for key in {ALL, change.get("unit")}:  # the checks are read for the page shown
            lists.changes[key].append(change)
    for rows in lists.changes.values():  # newest first; the id breaks ties
        rows.sort(key=lambda c: (str(c["at"]), c["id"]), reverse=True)
    lists.built_at = time.monotonic()
    return lists


def after(rows: list[Row], key: str | None) -> list[Row]:
    """The rows (in USCC order) after the USCC `key`."""
    if key is None:
        return rows
    return rows[bisect_right([r["uscc"] for r in rows], key) :]


class PortalPages:
    """The portal's pages, served from the lists in memory; the lists are rebuilt in the
    background once older than `max_age` seconds. The first build is made once: callers that
    come while it runs wait for it, so a province's worth of firms is not read again by every
    early request."""

    def __init__(self, tiers: Tiers, max_age: float):
        self.tiers, self.max_age = tiers, max_age
        self.lists: Lists | None = None
        self.rebuilding = False
        self.first_build = Semaphore(1)

    def current(self) -> Lists:
        lists = self.lists
        if lists is None:
            with self.first_build:
                lists = self.lists = self.lists or build(self.tiers)
        elif time.monotonic() - lists.built_at > self.max_age and not self.rebuilding:
            self.rebuilding = True
            eventlet.spawn_n(self.rebuild)
        return lists

    def rebuild(self) -> None:
        try:
            self.lists = build(self.tiers)
        except Exception:  # the previous copy is served; the next request tries again
            log.exception("could not rebuild the portal's lists")
        finally:
            self.rebuilding = False

    def firms(
        self, unit: str | None, tier: str | None, industry: str | None, key: str | None, n: int
    ) -> list[Row]:
        rows = after(self.current().firms.get(unit or ALL, []), key)
        wanted = (r for r in rows if (not tier or r["tier"] == tier))
        return [r for r in wanted if (not industry or r["industry"] == industry)][:n]

    def watchlist(self, unit: str | None, key: str | None, n: int) -> list[Row]:
        rows = after(self.current().firms.get(unit or ALL, []), key)
        return [r for r in rows if r["watch"]][:n]

    def changes(self, unit: str | None, position: tuple[str, str] | None, n: int) -> list[Row]:
        rows = self.current().changes.get(unit or ALL, [])
        if position is not None:
            rows = [c for c in rows if (str(c["at"]), c["id"]) < position]
        shown = rows[:n]
        stored = GreenPool(20).imap(lambda c: self.tiers.change(c["uscc"], c["seq"]), shown)
        return [
            {**c, "checks": (s or {}).get("checks", [])} for c, s in zip(shown, stored, strict=True)
        ]

    def by_year(self, unit: str | None, years: list[int]) -> dict[str, dict[str, int]]:
        """Firms per tier at the end of each year: each firm's last change made by then (a
        firm with no change by then was not known yet, or had no tier)."""
        found = {}
        for year in years:
            last: dict[str, tuple[int, str]] = {}
            for change in self.current().changes.get(unit or ALL, []):
                if str(change["at"])[:4] <= str(year):
                    held = last.get(change["uscc"])
                    if held is None or held[0] < change["seq"]:
                        last[change["uscc"]] = (change["seq"], change["to"])
            found[str(year)] = dict(Counter(to for _, to in last.values()))
        return found

    def counts(self, unit: str | None) -> dict[str, int]:
        return dict(self.current().counts.get(unit or ALL, {}))


class PortalReadModel(Injects["PortalReadModel"]):
    """Injects itself, holding the container's one PortalPages (built on the tiering
    database)."""

    def setup(self) -> None:
        self.portal_pages: PortalPages | None = None

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self

    def pages(self, tiers: Tiers) -> PortalPages:
        if self.portal_pages is None:
            seconds = float(self.container.config.get("READ_MODEL_SECONDS") or 60)
            self.portal_pages = PortalPages(tiers, seconds)
        return self.portal_pages
