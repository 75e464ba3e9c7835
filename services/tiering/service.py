"""tiering service: entrypoints and dependencies only; rules in rules/, use cases in classify.py,
answers in views.py."""

from __future__ import annotations

from typing import Any

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from werkzeug.wrappers import Response

from services.tiering import classify, schemas, views
from services.tiering.metrics import count_change, storage_gauges
from services.tiering.rules.ruleset import parse_ruleset
from services.tiering.storage import RuleSetStore, TierStore
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
            "a firm's tier, the checks behind it and its history", schemas.TierView, errors=(400,)
        ),
    )
    def get_tier(self, request: Any, uscc: str) -> Response:
        code = path_uscc(uscc)
        return json_response(views.tier(self.tiers, self.rulesets, code, self.default_ruleset))

    @http(
        "GET",
        "/v1/tiers/summary",
        doc=Doc("firms per tier", schemas.Summary, query=schemas.SummaryQuery),
    )
    def summary(self, request: Any) -> Response:
        unit = load_query(request, schemas.SummaryQuery()).get("unit")
        ruleset = self.rulesets.get(self.default_ruleset)
        return json_response(views.summary(self.tiers, ruleset, unit))

    @http("GET", "/v1/tiers/changes", doc=Doc("tier moves so far", schemas.Changes))
    def changes(self, request: Any) -> Response:
        return json_response(views.changes(self.tiers))

    @http(
        "GET",
        "/v1/watchlist",
        doc=Doc(
            "firms close to the next tier", schemas.WatchlistPage, query=schemas.WatchlistQuery
        ),
    )
    def watchlist(self, request: Any) -> Response:
        query = load_query(request, schemas.WatchlistQuery())
        unit = views.firms_of(query.get("unit"))
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
