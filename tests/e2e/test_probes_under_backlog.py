"""The probes a pod is judged by keep answering while every worker is stuck on a backlog.

tiering runs as a real process with one worker on a database of the test's own, which the
test then freezes (SIGSTOP: a hung server, not a refused connection). A queue of snapshots
keeps that worker waiting on it with a batch (shared/batches.py: a batch is one worker) while
the rest wait in the queue. An ordinary HTTP route, which needs a worker, gets no answer;
liveness answers at once, readiness answers at once that the database is down, and the
metrics show the backlog ageing."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from nameko.standalone.events import event_dispatcher

from shared.events import SUBSCRIPTIONS
from tests.support.metrics import sample
from tests.support.snapshots import firm
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
WORKERS = 1
PREFETCH = 3  # delivered to tiering, held by its one busy batch or waiting for the next
SNAPSHOTS = 20
PROBE_TIMEOUT = 1.0
QUEUE = next(s.queue_name for s in SUBSCRIPTIONS if s.service == "tiering")


def probe(url: str) -> tuple[int, str]:
    response = requests.get(url, timeout=PROBE_TIMEOUT)
    return response.status_code, response.text


def image_healthcheck(pid: int) -> int:
    """The Dockerfile's HEALTHCHECK command, aimed at the service's process."""
    command = [sys.executable, "-m", "shared.probe", "live", "--pid", str(pid)]
    return subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT * 10).returncode


def test_liveness_answers_while_every_worker_is_blocked(
    database_server, run_service, config_for, queues, monkeypatch
):
    monkeypatch.setenv("TIERING_MAX_WORKERS", str(WORKERS))
    monkeypatch.setenv("BATCH_PREFETCH", str(PREFETCH))
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "120000")  # workers wait on the frozen database
    monkeypatch.setenv("HEALTH_CHECK_INTERVAL_SECONDS", "1")
    config = {**config_for("tiering"), "MONGODB_URI": database_server.uri}
    tiering = run_service("tiering", config)

    database_server.freeze()
    dispatch = event_dispatcher(config)
    for n in range(SNAPSHOTS):
        dispatch("registry", "enterprise_updated", firm() | {"uscc": f"91220102{n:010d}"})
    wait_for(
        lambda: queues.depth(QUEUE) == SNAPSHOTS - PREFETCH,
        timeout=20,
        what=f"tiering to hold {PREFETCH} snapshots with the rest queued",
    )

    # The control: a route answered by a worker gets no answer now.
    with pytest.raises(requests.Timeout):
        requests.get(f"{tiering.base_url}/openapi.json", timeout=2)

    # Each probe has PROBE_TIMEOUT to answer (requests raises otherwise).
    assert [probe(f"{tiering.base_url}/health/live")[0] for _ in range(10)] == [200] * 10
    assert image_healthcheck(tiering.process.pid) == 0
    wait_for(
        lambda: probe(f"{tiering.base_url}/health/ready")[0] == 503,
        timeout=10,
        what="readiness to report the frozen database",
    )
    assert "database" in requests.get(f"{tiering.base_url}/health/ready", timeout=1).text

    def backlog_age() -> float:
        text = requests.get(f"{tiering.base_url}/metrics", timeout=PROBE_TIMEOUT).text
        return sample(text, "tracker_queue_oldest_event_age_seconds", queue=QUEUE)

    first = backlog_age()
    assert wait_for(lambda: backlog_age() > first + 1, timeout=10, what="the backlog to age")
    assert queues.depth(QUEUE) == SNAPSHOTS - PREFETCH  # nothing moved meanwhile

    database_server.thaw()  # the workers finish, the backlog drains, readiness comes back
    wait_for(lambda: queues.depth(QUEUE) == 0, timeout=30, what="the backlog to drain")
    wait_for(lambda: probe(f"{tiering.base_url}/health/ready")[0] == 200, timeout=10)
