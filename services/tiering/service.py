"""tiering service: entrypoints and dependencies only; the use cases are in handlers.py, the
answers in views.py and read_model.py (the portal's lists), the rules in rules/ and
decisions.py."""

from __future__ import annotations

from typing import Any

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from werkzeug.wrappers import Response

from services.tiering import handlers, schemas, views
from services.tiering.metrics import count_change, storage_gauges
from services.tiering.read_model import PortalReadModel
from services.tiering.storage import RuleSetStore, TierStore
from shared import scope
from shared.auth import Access
from shared.batches import Batch
from shared.events import EventDispatcher, subscribe
from shared.gauges import StorageGauges
from shared.http import http, json_response, load_query, path_uscc
from shared.ops import OpsEndpoints


class TieringService(OpsEndpoints):
    name = "tiering"

    config = Config()
    tiers = TierStore()
    rulesets = RuleSetStore()
    dispatch = EventDispatcher()
    gauges = StorageGauges(storage_gauges)
    access = Access()
    read_model = PortalReadModel()

    @property
    def default_ruleset(self) -> str:
        return str(self.config.get("TIERING_DEFAULT_RULESET", "jl-2025"))

    def announce(self, changes: list[dict[str, Any]]) -> None:
        self.dispatch.many(("tier_changed", change) for change in changes)
        for change in changes:
            count_change(change)

    @subscribe("registry", "enterprise_updated")
    def on_enterprise_updated(self, batch: Batch[dict[str, Any]]) -> None:
        handlers.classify_snapshots(
            self.tiers, self.rulesets, batch, self.default_ruleset, self.announce
        )

    @http("GET", "/v1/enterprises/<uscc>/tier", doc=schemas.TIER)
    def get_tier(self, request: Any, uscc: str) -> Response:
        principal, code = self.access.principal(request), path_uscc(uscc)
        tier = views.scoped_tier(
            self.tiers, self.rulesets, self.access, principal, code, self.default_ruleset
        )
        return json_response(tier)

    @http("GET", "/v1/tiers/summary", doc=schemas.SUMMARY)
    def summary(self, request: Any) -> Response:
        principal = self.access.principal(request)
        query = load_query(request, schemas.SummaryQuery())
        return json_response(
            views.summary(self.tiers, self.rulesets, self.default_ruleset, principal, query)
        )

    @http("GET", "/v1/tiers/changes", doc=schemas.CHANGES)
    def changes(self, request: Any) -> Response:
        scope.require_everything(self.access.principal(request))
        return json_response(views.changes(self.tiers))

    @http("GET", "/v1/watchlist", doc=schemas.WATCHLIST)
    def watchlist(self, request: Any) -> Response:
        principal = self.access.principal(request)
        query = load_query(request, schemas.WatchlistQuery())
        return json_response(views.watchlist(self.tiers, principal, query))

    @rpc
    def load_ruleset(self, text: str) -> dict[str, Any]:
        return views.loaded(handlers.load_ruleset(self.rulesets, text))

    @rpc
    def list_rulesets(self) -> dict[str, Any]:
        return views.rulesets_listing(self.rulesets)

    @rpc
    def simulate_ruleset(self, ruleset_id: str) -> dict[str, Any]:
        candidate = self.rulesets.get(ruleset_id, fresh=True)
        return views.simulate(self.tiers, self.rulesets, candidate, self.default_ruleset)

    @rpc
    def activate_ruleset(self, ruleset_id: str) -> dict[str, Any]:
        return handlers.activate_ruleset(
            self.tiers, self.rulesets, ruleset_id, self.default_ruleset, self.announce
        )

    # Reads for the portal, which checks its user's reach itself (unit None: every unit). The
    # lists come from the in-memory read model (read_model.py), at most READ_MODEL_SECONDS old.
    @rpc
    def tier_of(self, uscc: str) -> dict[str, Any] | None:
        return views.tier_or_none(self.tiers, self.rulesets, uscc, self.default_ruleset)

    @rpc
    def tiers_of(self, usccs: list[str]) -> dict[str, dict[str, Any]]:
        return views.tiers_of(self.tiers, usccs)

    @rpc
    def counts(self, unit: str | None) -> dict[str, Any]:
        counts = self.read_model.pages(self.tiers).counts(unit)
        return views.summary_of(self.rulesets.get(self.default_ruleset), counts, unit)

    @rpc
    def counts_by_year(self, unit: str | None, years: list[int]) -> dict[str, dict[str, int]]:
        return self.read_model.pages(self.tiers).by_year(unit, years)

    @rpc
    def changes_page(
        self, unit: str | None, after: list[str] | None, limit: int
    ) -> list[dict[str, Any]]:
        position = (after[0], after[1]) if after else None
        return self.read_model.pages(self.tiers).changes(unit, position, limit)

    @rpc
    def watch_page(self, unit: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
        return self.read_model.pages(self.tiers).watchlist(unit, after, limit)

    @rpc
    def firm_rows(
        self,
        unit: str | None,
        tier: str | None,
        industry: str | None,
        after: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        return self.read_model.pages(self.tiers).firms(unit, tier, industry, after, limit)
