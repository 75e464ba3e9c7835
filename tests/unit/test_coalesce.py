import eventlet
import pytest

from shared.coalesce import Coalescer, Interrupted


class Doubling:
    """A batch runner that takes a moment, like a database command, and keeps each batch."""

    def __init__(self):
        self.batches = []

    def __call__(self, items):
        self.batches.append(list(items))
        eventlet.sleep(0.01)
        return [ValueError(f"odd {i}") if i % 7 == 6 else i * 2 for i in items]


def call_all(coalescer, items):
    results = {}

    def call(item):
        try:
            results[item] = coalescer(item)
        except ValueError as exc:
            results[item] = str(exc)

    pool = eventlet.GreenPool()
    for item in items:
        pool.spawn(call, item)
    pool.waitall()
    return results


def test_concurrent_calls_share_commands_and_each_gets_its_own_result():
    run = Doubling()
    results = call_all(Coalescer(run, limit=10), range(40))
    assert results == {i: f"odd {i}" if i % 7 == 6 else i * 2 for i in range(40)}
    assert sorted(i for batch in run.batches for i in batch) == list(range(40))
    assert len(run.batches) < 10  # the first call runs alone, the others in batches
    assert max(len(batch) for batch in run.batches) == 10  # never more than the limit


def test_a_lone_call_runs_at_once():
    run = Doubling()
    assert Coalescer(run, limit=10)(3) == 6
    assert run.batches == [[3]]


def test_a_failed_command_fails_every_call_in_it_and_not_later_ones():
    calls = []

    def flaky(items):
        calls.append(items)
        eventlet.sleep(0.01)
        if len(calls) == 2:
            raise ConnectionError("database went away")
        return list(items)

    coalescer = Coalescer(flaky, limit=5)
    outcomes = {}

    def call(item):
        try:
            outcomes[item] = coalescer(item)
        except ConnectionError:
            outcomes[item] = "failed"

    pool = eventlet.GreenPool()
    for item in range(8):
        pool.spawn(call, item)
    pool.waitall()
    failed = [item for item, outcome in outcomes.items() if outcome == "failed"]
    assert sorted(failed) == sorted(calls[1])
    assert all(outcomes[item] == item for item in range(8) if item not in failed)
    with pytest.raises(RuntimeError, match="0 results for 1 calls"):
        Coalescer(lambda items: [], limit=5)(1)


def test_calls_queued_behind_a_killed_worker_go_on():
    started = eventlet.event.Event()

    def slow(items):
        if not started.ready():  # the first command hangs until its worker is killed
            started.send()
            eventlet.sleep(10)
        return list(items)

    coalescer = Coalescer(slow, limit=10)
    runner = eventlet.spawn(coalescer, 1)
    started.wait()
    others = [eventlet.spawn(coalescer, n) for n in (2, 3)]  # queued behind the runner
    eventlet.sleep(0)
    runner.kill()  # as nameko kills a worker when its container stops
    with eventlet.Timeout(2):  # the next caller runs the next command at once
        assert [other.wait() for other in others] == [2, 3]


def test_a_call_sharing_the_command_of_a_killed_worker_gets_an_error():
    gate, batches, runners = eventlet.event.Event(), [], []

    def run(items):
        batches.append(list(items))
        runners.append(eventlet.getcurrent())
        if len(batches) == 1:
            gate.wait()  # the first command holds the turn until "a" and "b" have queued
        else:
            eventlet.sleep(10)  # the second, of both, is cut short
        return list(items)

    coalescer = Coalescer(run, limit=10)
    eventlet.spawn(coalescer, "first")
    eventlet.sleep(0)
    callers = {name: eventlet.spawn(coalescer, name) for name in ("a", "b")}
    eventlet.sleep(0)
    gate.send()
    while len(batches) < 2:
        eventlet.sleep(0)
    assert sorted(batches[1]) == ["a", "b"]
    runners[1].kill()
    survivor = next(c for c in callers.values() if c is not runners[1])
    with pytest.raises(Interrupted), eventlet.Timeout(2):
        survivor.wait()
