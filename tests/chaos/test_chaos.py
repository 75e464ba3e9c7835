"""Fault injection: the same generated province through the four services twice, on a RabbitMQ
node and a FerretDB server of the test's own, once without faults and once while every service
is killed with SIGKILL once, the broker is restarted once and the database server is stopped
for ten seconds, each while work waits for its target; then the two final states are
compared.

The CI suite runs a small province (`CHAOS_SCALE`, default 0.006: 735 events); `make chaos`
runs about 10,000 events (scale 0.085), plus a second fault-free run (`CHAOS_CONTROL=1`) to show
how much two runs differ where the order of processing matters, and writes what it measured to
`CHAOS_REPORT`.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.chaos import schedule, state
from tests.chaos.compare import compare, differences, order_dependent, order_free
from tests.chaos.pipeline import Pipeline
from tests.support.private_stack import PrivateFerretDB, PrivateRabbitMQ
from tools.cli.demo import sizes
from tools.province import generator

pytestmark = pytest.mark.e2e

SCALE = float(os.environ.get("CHAOS_SCALE", "0.006"))
SEED = 2025
# Events that fail while the database is stopped (10 s) wait in delay queues that add up to
# more than the outage.
DELAYS_MS = "1000,2000,4000,8000,16000,32000"
SETTINGS = {
    "INGRESS_RETRY_DELAYS_MS": DELAYS_MS,
    "EVENT_RETRY_DELAYS_MS": DELAYS_MS,
}
DRAIN_TIMEOUT = 900
CONTROL = os.environ.get("CHAOS_CONTROL") == "1"
INTERRUPTED_DELIVERIES = 2  # the notifications kill and the database stop


@pytest.fixture
def private_servers(tmp_path: Path):
    rabbit = PrivateRabbitMQ(tmp_path / "rabbitmq")
    ferret = PrivateFerretDB.built(tmp_path / "ferretdb")
    # A SIGTERM (say, a CI time-out) unwinds the test, so the servers are stopped, not left.
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield rabbit.start(), ferret.start()
    finally:
        signal.signal(signal.SIGTERM, previous)
        rabbit.stop()
        ferret.stop()


def interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(name: str, servers: Any, directory: Path, province: Any, faulted: bool) -> dict:
    events, incubators, _ = province
    steps = schedule.steps(events, incubators["phases"])
    pipeline = Pipeline(name, *servers, directory, SETTINGS, DRAIN_TIMEOUT)
    try:
        pipeline.start(incubators["carriers"])
        pipeline.run(steps, schedule.faults(steps) if faulted else {})
        return state.capture(pipeline)
    finally:
        pipeline.stop()


def test_faults_lose_no_event_and_repeat_no_alert(private_servers, tmp_path):
    made = generator.Generator(SEED, **sizes(SCALE)).generate()
    generator.write(made, tmp_path / "province")
    province = generator.read(tmp_path / "province")

    fault_free = run("baseline", private_servers, tmp_path, province, faulted=False)
    faulted = run("chaos", private_servers, tmp_path, province, faulted=True)
    result = {"scale": SCALE, "seed": SEED, **compare(fault_free, faulted)}
    if CONTROL:  # how much two fault-free runs differ in what depends on the order
        control = run("control", private_servers, tmp_path, province, faulted=False)
        result["fault_free_twice"] = {
            "order_dependent": order_dependent(fault_free, control),
            "differences": differences(
                order_free(fault_free["documents"]), order_free(control["documents"])
            ),
        }
    report = Path(os.environ.get("CHAOS_REPORT") or tmp_path / "chaos.json")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    print(summary(result, report))

    assert result["faults_injected"] == 6, result["faults"]
    assert all(f["target_work_at_injection"] > 0 for f in result["faults"]), result["faults"]
    assert result["events_lost"] == 0, result["lost"]
    assert not result["lost"]["still_queued"], result["lost"]
    assert result["consistency_problems"] == {"fault_free": [], "faulted": []}, result
    assert result["differences"] == {}, json.dumps(result["differences"], default=str)[:5000]
    assert result["counts_equal"], result["counts"]
    duplicates = result["duplicates"]
    assert duplicates["inbox_entries_listed_twice"] == 0, duplicates
    # Webhooks are at least once: a kill or a database stop between a call and its record
    # sends that one call again, under the same webhook-id (receivers drop the repeat).
    assert duplicates["alerts_delivered_twice"] <= INTERRUPTED_DELIVERIES, duplicates


def summary(result: dict, report: Path) -> str:
    duplicates, lost = result["duplicates"], result["lost"]
    history = result["order_dependent"]["tier_history_entries"]
    lines = [
        f"\nchaos run (scale {result['scale']}): {result['events_sent']:,} events sent, "
        f"{result['faults_injected']} faults injected, {result['events_lost']} events lost "
        f"(not applied {lost['not_applied_count']}, parked {sum(lost['parked'].values())},"
        f" rejections missing {lost['rejections_missing']})"
    ]
    lines += [
        f"  {f['fault']}: {f['seconds']} s, every service ready after "
        f"{f['all_ready_after_seconds']} s; {f['target_work_at_injection']} messages waited"
        " for its target"
        for f in result["faults"]
    ]
    lines.append(
        f"  alerts: {duplicates['distinct_alerts_delivered']} distinct delivered, "
        f"{duplicates['webhook_requests_accepted']} webhook requests accepted, "
        f"{duplicates['alerts_delivered_twice']} delivered twice; "
        f"rejections recorded twice: {duplicates['rejections_recorded_twice']}"
    )
    lines.append(
        f"  tier history entries: {history['fault_free']} fault-free, "
        f"{history['faulted']} faulted, {history['same']} identical"
    )
    lines.append(f"  consistency problems: {result['consistency_problems']}")
    lines.append(
        f"  stored documents differing: {sorted(result['differences'])}; "
        f"counts equal: {result['counts_equal']}"
    )
    lines.append(f"  report: {report}")
    return "\n".join(lines)
