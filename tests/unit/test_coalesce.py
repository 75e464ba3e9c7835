import eventlet
import pytest

from shared.coalesce import Coalescer


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
