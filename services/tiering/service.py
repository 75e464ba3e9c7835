"""tiering service: entrypoints and dependencies only; rules in rules/, use cases in classify.py,
answers in views.py."""

from __future__ import annotations

from typing import Any

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from werkzeug.wrappers import Response

from services.tiering import classify, schemas, views
from services.tiering.directory import ReadModel
from services.tiering.metrics import count_change, storage_gauges
from services.tiering.rules.ruleset import parse_ruleset
from services.tiering.storage import RuleSetStore, TierStore
from shared import scope
from shared.auth import Access
from shared.batches import Batch
from shared.events import EventDispatcher, subscribe
from shared.gauges import StorageGauges
from shared.http import http, json_response, load_query, path_uscc
from shared.openapi import Doc
from shared.ops import OpsEndpoints
from shared.pagination import after_cursor, keyset_page


class TieringService(OpsEndpoints):
    name = "tiering"

    config = Config()
    tiers = TierStore()
    rulesets = RuleSetStore()
    dispatch = EventDispatcher()
    gauges = StorageGauges(storage_gauges)
    access = Access()
    read_model = ReadModel()

    @property
    def default_ruleset(self) -> str:
        return str(self.config.get("TIERING_DEFAULT_RULESET", "jl-2025"))

    def announce(self, changes: list[dict[str, Any]]) -> None:
        self.dispatch.many(("tier_changed", change) for change in changes)
        for change in changes:
            count_change(change)

    @subscribe("registry", "enterprise_updated")
    def on_enterprise_updated(self, batch: Batch[dict[str, Any]]) -> None:
        classify.on_snapshots(self.tiers, self.rulesets, batch, self.default_ruleset, self.announce)

    @http(
        "GET",
        "/v1/enterprises/<uscc>/tier",
        doc=Doc(
            "a firm's tier, the checks behind it and its history",
            schemas.TierView,
            errors=(400, 403),
            key=True,
        ),
    )
    def get_tier(self, request: Any, uscc: str) -> Response:
        principal = self.access.principal(request)
        code = path_uscc(uscc)
        return json_response(
            views.scoped_tier(
                self.tiers, self.rulesets, self.access, principal, code, self.default_ruleset
            )
        )

    @http(
        "GET",
        "/v1/tiers/summary",
        doc=Doc(
            "firms per tier", schemas.Summary, query=schemas.SummaryQuery, errors=(403,), key=True
        ),
    )
    def summary(self, request: Any) -> Response:
        principal = self.access.principal(request)
        unit = scope.unit_filter(principal, load_query(request, schemas.SummaryQuery()).get("unit"))
        ruleset = self.rulesets.get(self.default_ruleset)
        return json_response(views.summary(self.tiers, ruleset, unit))

    @http(
        "GET",
        "/v1/tiers/changes",
        doc=Doc("tier moves so far", schemas.Changes, errors=(403,), key=True),
    )
    def changes(self, request: Any) -> Response:
        scope.require_everything(self.access.principal(request))
        return json_response(views.changes(self.tiers))

    @http(
        "GET",
        "/v1/watchlist",
        doc=Doc(
            "firms close to the next tier",
            schemas.WatchlistPage,
            query=schemas.WatchlistQuery,
            errors=(403,),
            key=True,
        ),
    )
    def watchlist(self, request: Any) -> Response:
        principal = self.access.principal(request)
        query = load_query(request, schemas.WatchlistQuery())
        unit = views.firms_of(scope.unit_filter(principal, query.get("unit")))
        items = self.tiers.watchlist(unit, after_cursor(query), query["limit"])
        return json_response(keyset_page(items, query["limit"]))

    @rpc
    def load_ruleset(self, text: str) -> dict[str, Any]:
        ruleset = parse_ruleset(text)
        self.rulesets.store(ruleset)
        return views.loaded(ruleset)

    @rpc
    def list_rulesets(self) -> dict[str, Any]:
        return {"loaded": self.rulesets.listing(), "active": self.rulesets.active_map(fresh=True)}

    @rpc
    def simulate_ruleset(self, ruleset_id: str) -> dict[str, Any]:
        candidate = self.rulesets.get(ruleset_id, fresh=True)
        return classify.simulate(self.tiers, self.rulesets, candidate, self.default_ruleset)

    @rpc
    def activate_ruleset(self, ruleset_id: str) -> dict[str, Any]:
        self.rulesets.set_active(self.rulesets.get(ruleset_id, fresh=True))
        report = classify.reevaluate(self.tiers, self.rulesets, self.default_ruleset, self.announce)
        return {"ruleset": ruleset_id, **report}

    # Reads for the portal, which checks its user's reach itself (unit None: every unit). The
    # lists come from the in-memory read model (directory.py), at most READ_MODEL_SECONDS old.
    @rpc
    def tier_of(self, uscc: str) -> dict[str, Any] | None:
        return views.tier_or_none(self.tiers, self.rulesets, uscc, self.default_ruleset)

    @rpc
    def tiers_of(self, usccs: list[str]) -> dict[str, dict[str, Any]]:
        return views.tiers_of(self.tiers, usccs)

    @rpc
    def counts(self, unit: str | None) -> dict[str, Any]:
        counts = self.read_model.of(self.tiers).counts(unit)
        return views.summary_of(self.rulesets.get(self.default_ruleset), counts, unit)

    @rpc
    def counts_by_year(self, unit: str | None, years: list[int]) -> dict[str, dict[str, int]]:
        return self.read_model.of(self.tiers).by_year(unit, years)

    @rpc
    def changes_page(
        self, unit: str | None, after: list[str] | None, limit: int
    ) -> list[dict[str, Any]]:
        position = (after[0], after[1]) if after else None
        return self.read_model.of(self.tiers).changes(unit, position, limit)

    @rpc
    def watch_page(self, unit: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
        return self.read_model.of(self.tiers).watchlist(unit, after, limit)

    @rpc
    def firm_rows(
        self,
        unit: str | None,
        tier: str | None,
        industry: str | None,
        after: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        return self.read_model.of(self.tiers).firms(unit, tier, industry, after, limit)
