"""tiering service: entrypoints and dependencies only; rules in rules/, use cases in classify.py."""

from __future__ import annotations

from typing import Any

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import rpc
from werkzeug.wrappers import Response

from services.tiering import classify
from services.tiering.classify import region_of
from services.tiering.decisions import explained, tier_view
from services.tiering.metrics import count_change, storage_gauges
from services.tiering.rules.engine import NONE_TIER
from services.tiering.rules.ruleset import parse_ruleset
from services.tiering.schemas import (
    Changes,
    Summary,
    SummaryQuery,
    TierView,
    WatchlistPage,
    WatchlistQuery,
)
from services.tiering.storage import RuleSetStore, TierStore
from shared.events import subscribe
from shared.gauges import StorageGauges
from shared.http import Problem, http, json_response, load_query, path_uscc
from shared.openapi import Doc
from shared.ops import OpsEndpoints
from shared.pagination import decode_cursor, encode_cursor


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

    def announce(self, change: dict[str, Any]) -> None:
        self.dispatch("tier_changed", change)
        count_change(change)

    @subscribe("registry", "enterprise_updated")
    def on_enterprise_updated(self, snapshot: dict[str, Any]) -> None:
        classify.on_snapshot(
            self.tiers, self.rulesets, snapshot, self.default_ruleset, self.announce
        )

    @http(
        "GET",
        "/v1/enterprises/<uscc>/tier",
        doc=Doc("a firm's tier, the checks behind it and its history", TierView, errors=(400,)),
    )
    def get_tier(self, request: Any, uscc: str) -> Response:
        code = path_uscc(uscc)
        record = self.tiers.get(code)
        if record is None:
            raise Problem(404, "Not Found", f"no tier for {code}: no snapshot of it yet")
        ruleset = self.rulesets.for_region(region_of(record["snapshot"]), self.default_ruleset)
        return json_response(tier_view(explained(record, ruleset), self.tiers.history_of(record)))

    @http("GET", "/v1/tiers/summary", doc=Doc("firms per tier", Summary, query=SummaryQuery))
    def summary(self, request: Any) -> Response:
        unit = load_query(request, SummaryQuery()).get("unit")
        ruleset = self.rulesets.get(self.default_ruleset)
        counts = dict.fromkeys([t.code for t in ruleset.tiers] + [NONE_TIER], 0)
        counts.update(self.tiers.counts(unit))
        return json_response({"unit": unit, "counts": counts, "total": sum(counts.values())})

    @http("GET", "/v1/tiers/changes", doc=Doc("tier moves so far", Changes))
    def changes(self, request: Any) -> Response:
        transitions = self.tiers.transitions()
        return json_response({"total": sum(transitions.values()), "by_transition": transitions})

    @http(
        "GET",
        "/v1/watchlist",
        doc=Doc("firms close to the next tier", WatchlistPage, query=WatchlistQuery),
    )
    def watchlist(self, request: Any) -> Response:
        query = load_query(request, WatchlistQuery())
        after = decode_cursor(query["cursor"]) if "cursor" in query else None
        items = self.tiers.watchlist(query.get("unit"), after, query["limit"])
        more = len(items) == query["limit"]
        return json_response(
            {"items": items, "next_cursor": encode_cursor(items[-1]["uscc"]) if more else None}
        )

    @rpc
    def load_ruleset(self, text: str) -> dict[str, Any]:
        ruleset = parse_ruleset(text)
        self.rulesets.store(ruleset)
        return {
            "id": ruleset.id,
            "version": ruleset.version,
            "regions": list(ruleset.regions),
            "tiers": [t.code for t in ruleset.tiers],
        }

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
