"""Targets judged against the measured figures, and the Markdown table for the README."""

from __future__ import annotations

from typing import Any

PIPELINE_RATIO = 0.4  # of the floor: the same hops in nameko with empty handlers (#16)
P99_SECONDS = 2.0
REEVALUATION_SECONDS = 30.0
GROWTH_TOLERANCE = 0.2
PEAK_RSS_MB = 150.0


def ratio(results: dict[str, Any], per_second: float) -> float:
    """Of the raw-kombu baseline."""
    return round(per_second / results["baseline"]["messages_per_second"], 3)


def of_floor(results: dict[str, Any], per_second: float) -> float | str:
    if "floor" not in results:
        return "–"
    return round(per_second / results["floor"]["events_per_second"], 3)


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []

    def judge(target: str, measured: Any, met: bool) -> None:
        out.append({"target": target, "measured": measured, "met": bool(met)})

    if "pipeline" in results and "floor" in results:
        r = of_floor(results, results["pipeline"]["events_per_second"])
        events = results["pipeline"]["events"]
        judge(f"pipeline ({events:,} reports) ≥ {PIPELINE_RATIO} × floor", r, r >= PIPELINE_RATIO)
    if "latency" in results:
        p99 = results["latency"]["p99_seconds"]
        judge(f"p99 latency ≤ {P99_SECONDS} s at half load", p99, p99 <= P99_SECONDS)
    if "reevaluation" in results:
        seconds = results["reevaluation"]["seconds"]
        judge(
            f"re-evaluation of {results['reevaluation']['firms']:,} firms ≤ "
            f"{REEVALUATION_SECONDS:.0f} s",
            seconds,
            seconds <= REEVALUATION_SECONDS,
        )
    if len(results.get("growth", [])) > 1:
        first, last = results["growth"][0], results["growth"][-1]
        kept = round(last["events_per_second"] / first["events_per_second"], 3)
        judge(
            f"throughput at {last['events']:,} within 20% of {first['events']:,}",
            kept,
            kept >= 1 - GROWTH_TOLERANCE,
        )
    for service, mb in results.get("peak_rss_mb", {}).items():
        judge(f"{service} peak memory ≤ {PEAK_RSS_MB:.0f} MB", mb, mb <= PEAK_RSS_MB)
    return out


def throughput_row(
    results: dict[str, Any], scenario: str, measured: str, rate: float, floor: bool = True
) -> str:
    x = ratio(results, rate) if "baseline" in results else "–"
    y = of_floor(results, rate) if floor else "–"
    return f"| {scenario} | {measured} | {rate:,} | {x} | {y} |"


def cpu_row(scenario: str, result: dict[str, Any]) -> str:
    cpu = result["cpu_ms_per_event"]
    shares = ", ".join(f"{name} {ms}" for name, ms in cpu.items())
    return (
        f"| CPU per event in the {result['events']:,}-event {scenario}, ms | "
        f"{shares}; total {round(sum(cpu.values()), 2)} | – | – | – |"
    )


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['started']} (scale {results['scale']}, commit "
        f"{results['machine']['commit']}, {results['machine']['cpus']} CPUs), "
        "everything on one machine.",
        "",
        "| scenario | measured | per second | × baseline | × floor |",
        "|---|---|---|---|---|",
    ]
    if "baseline" in results:
        b = results["baseline"]
        lines.append(
            f"| baseline: raw kombu, confirms, acks, prefetch 100 | {b['messages']:,} "
            f"messages in {b['seconds']} s | {b['messages_per_second']:,} | 1 | – |"
        )
    if "floor" in results:
        f = results["floor"]
        lines.append(
            throughput_row(
                results,
                "floor: the pipeline's hops in nameko, no storage or rules",
                f"{f['events']:,} events in {f['seconds']} s",
                f["events_per_second"],
            )
        )
        lines.append(cpu_row("floor", f))
    for g in results.get("growth", []):
        lines.append(
            throughput_row(
                results,
                f"pipeline: {g['events']:,} annual reports, {g['firms']:,} firms",
                f"{g['seconds']} s to every tier",
                g["events_per_second"],
            )
        )
    if "pipeline" in results and "cpu_ms_per_event" in results["pipeline"]:
        lines.append(cpu_row("pipeline", results["pipeline"]))
    if "latency" in results:
        lat = results["latency"]
        lines.append(
            f"| latency at {lat['offered_per_second']}/s offered ({lat['events']:,} "
            f"events) | p50 {lat['p50_seconds']} s, p95 {lat['p95_seconds']} s, "
            f"p99 {lat['p99_seconds']} s | – | – | – |"
        )
    if "reevaluation" in results:
        r = results["reevaluation"]
        lines.append(
            f"| re-evaluation: activate a changed rule set | {r['firms']:,} firms "
            f"({r['changed']:,} moved) in {r['seconds']} s | {r['firms_per_second']:,} "
            "firms | – | – |"
        )
    if "http_ingest" in results:
        h = results["http_ingest"]
        lines.append(
            throughput_row(
                results,
                f"HTTP ingest: batches of {h['batch']} to POST /v1/events",
                f"{h['events']:,} events in {h['seconds']} s",
                h["accepted_per_second"],
                floor=False,
            )
        )
    if "peak_rss_mb" in results:
        peaks = ", ".join(f"{s} {mb} MB" for s, mb in results["peak_rss_mb"].items())
        lines.append(f"| peak memory during the pipeline run | {peaks} | – | – | – |")
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [
        f"| {v['target']} | {v['measured']} | {'yes' if v['met'] else '**no**'} |"
        for v in results.get("verdicts", [])
    ]
    return "\n".join(lines) + "\n"
