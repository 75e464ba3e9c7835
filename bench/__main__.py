"""`python -m bench [--scale S] [--only NAME ...]`: every scenario, one after another, each
on a fresh vhost and databases; results in bench/results/latest.json and latest.md."""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import baseline, floor, http_ingest, pipeline, portal_pages, reevaluation
from bench.harness import AMQP_URI, stage
from bench.report import markdown, verdicts

RESULTS = Path(__file__).resolve().parent / "results"
GROWTH = (5_000, 10_000, 20_000, 40_000)
PIPELINE_EVENTS = 20_000
SCENARIOS = ("baseline", "floor", "pipeline", "reevaluation", "http_ingest", "portal_pages")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every event and firm count (quick looks; targets are judged at 1.0)",
    )
    parser.add_argument("--only", nargs="*", choices=SCENARIOS, default=list(SCENARIOS))
    args = parser.parse_args()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scale": args.scale,
        "machine": machine(),
    }
    work = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    scaled = lambda n: max(100, int(n * args.scale))  # noqa: E731
    scenarios = {
        "baseline": lambda: scenario_baseline(results, scaled),
        "floor": lambda: scenario_floor(results, scaled, work),
        "pipeline": lambda: scenario_pipeline(results, scaled, work),
        "reevaluation": lambda: scenario_reevaluation(results, scaled, work),
        "http_ingest": lambda: scenario_http_ingest(results, scaled, work),
        "portal_pages": lambda: scenario_portal_pages(results, args.scale, work),
    }
    for name, run in scenarios.items():
        if name not in args.only:
            continue
        try:
            run()
        except Exception as exc:  # the others still run, and what was measured is kept
            traceback.print_exc()
            results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:2000]
    results["verdicts"] = verdicts(results) + portal_pages.verdicts(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    report = markdown(results) + portal_pages.markdown(results)
    for name, error in results.get("errors", {}).items():
        report += f"\n**Scenario {name} failed**: `{error.splitlines()[0][:300]}`\n"
    (RESULTS / "latest.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"service logs: {work}")
    for name, error in results.get("errors", {}).items():
        print(f"scenario {name} failed: {error}", file=sys.stderr)
    met = all(v["met"] for v in results["verdicts"])
    return 0 if met and not results.get("errors") else 1


def scenario_baseline(results: dict[str, Any], scaled: Callable[[int], int]) -> None:
    step("baseline: raw kombu")
    results["baseline"] = baseline.run(AMQP_URI, scaled(baseline.MESSAGES))


def scenario_floor(results: dict[str, Any], scaled: Callable[[int], int], work: Path) -> None:
    step(f"floor: {scaled(PIPELINE_EVENTS):,} events through nameko, no storage")
    with stage("floor", work) as current:
        results["floor"] = floor.run(current, scaled(PIPELINE_EVENTS))


def scenario_pipeline(results: dict[str, Any], scaled: Callable[[int], int], work: Path) -> None:
    results["growth"] = []
    for events in GROWTH:
        step(f"pipeline: {scaled(events):,} annual reports")
        with stage(f"pipeline-{events}", work) as current:
            result, workload = pipeline.run(current, scaled(events))
            results["growth"].append(result)
            if events == PIPELINE_EVENTS:
                results["pipeline"] = result
                step("latency: half the pipeline's maximum")
                results["latency"] = pipeline.latency(
                    current, workload, result["events_per_second"] / 2
                )
                results["peak_rss_mb"] = current.peak_rss_mb()


def scenario_reevaluation(
    results: dict[str, Any], scaled: Callable[[int], int], work: Path
) -> None:
    step(f"re-evaluation: {scaled(reevaluation.FIRMS):,} firms")
    with stage("reevaluation", work) as current:
        results["reevaluation"] = reevaluation.run(current, scaled(reevaluation.FIRMS))


def scenario_http_ingest(results: dict[str, Any], scaled: Callable[[int], int], work: Path) -> None:
    step("HTTP ingest")
    with stage("http-ingest", work) as current:
        results["http_ingest"] = http_ingest.run(current, scaled(http_ingest.INCUBATED))


def scenario_portal_pages(results: dict[str, Any], scale: float, work: Path) -> None:
    step("portal pages: a seeded province, every page")
    with stage("portal-pages", work) as current:
        results["portal_pages"] = portal_pages.run(current, scale)


def step(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": len(__import__("os").sched_getaffinity(0)),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }


if __name__ == "__main__":
    sys.exit(main())
