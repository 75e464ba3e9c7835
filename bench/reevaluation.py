"""Activating a changed rule set over the whole province: tiering's firms seeded through its
own classification code, then `activate_ruleset` called over RPC as `tracker rulesets
activate` does, timed until it returns."""

from __future__ import annotations

import time
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import MongoClient

from bench.harness import MONGODB_URI, Stage
from bench.workload import Workload
from services.tiering import handlers
from services.tiering.storage import BUNDLED_RULESETS, RuleSets, Tiers
from shared.batches import Batch

FIRMS = 21_000
RULESET = "jl-2025"
SEED_BATCH = 100  # snapshots classified at once, as the service's default BATCH_SIZE


def changed_ruleset() -> str:
    """jl-2025 one version on, with the gazelle's 3-year revenue growth bar at 18%, not 20%."""
    text = (BUNDLED_RULESETS / f"{RULESET}.yaml").read_text(encoding="utf-8")
    bar = (
        "3-year revenue CAGR ≥ 20%, measure: growth, params: {field: revenue, years: 3}, "
        "op: ge, value: 0.20}"
    )
    assert bar in text and "\nversion: 1\n" in text, "jl-2025.yaml changed: update the bench"
    return text.replace(bar, bar.replace("20%", "18%").replace("0.20", "0.18")).replace(
        "\nversion: 1\n", "\nversion: 2\n"
    )


def seed(stage: Stage, firms: int) -> float:
    """Every firm classified under the current rules by tiering's own code; seconds taken."""
    started = time.monotonic()
    with MongoClient(MONGODB_URI, tz_aware=True) as client:
        db = stage.db(client, "tiering")
        tiers, rulesets = Tiers(db), RuleSets(db)
        tiers.ensure_indexes()
        rulesets.install_defaults(RULESET)
        snapshots = Workload(firms).snapshots()
        for start in range(0, len(snapshots), SEED_BATCH):
            batch = Batch(snapshots[start : start + SEED_BATCH])
            handlers.classify_snapshots(tiers, rulesets, batch, RULESET, lambda changes: None)
    return time.monotonic() - started


def run(stage: Stage, firms: int = FIRMS) -> dict[str, Any]:
    seeded = seed(stage, firms)
    stage.start("tiering")
    with ClusterRpcProxy({"AMQP_URI": stage.amqp_uri}, timeout=1800) as cluster:
        cluster.tiering.load_ruleset(changed_ruleset())
        started = time.monotonic()
        report = cluster.tiering.activate_ruleset(RULESET)
        seconds = time.monotonic() - started
    if report["firms"] != firms:
        raise AssertionError(f"re-evaluated {report['firms']} firms, not {firms}")
    return {
        "firms": firms,
        "changed": report["changed"],
        "seconds": round(seconds, 2),
        "firms_per_second": round(firms / seconds, 1),
        "seed_seconds": round(seeded, 1),
        "peak_rss_mb": stage.peak_rss_mb()["tiering"],
    }
