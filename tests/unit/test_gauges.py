"""Gauges from storage are computed at most once per max_age, and a failed refresh keeps the
last values instead of failing the scrape."""

import time

from prometheus_client import CollectorRegistry, generate_latest

from shared.gauges import CachedSource, SourcesCollector, gauge
from tests.support.waiting import wait_for


def test_a_source_is_computed_at_most_once_per_max_age_and_survives_failures():
    calls = []

    def compute():
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("database down")
        yield gauge("tracker_things", "Things.", ["unit"], [(("220100",), len(calls))])

    source = CachedSource("test", compute, max_age=3600)
    collector = SourcesCollector()
    collector.sources["test"] = source
    registry = CollectorRegistry()
    registry.register(collector)

    first = generate_latest(registry).decode()
    assert 'tracker_things{unit="220100"} 1.0' in first
    assert generate_latest(registry).decode() == first and len(calls) == 1  # cached

    source.max_age = 0
    assert generate_latest(registry).decode() == first and len(calls) == 2  # failed: kept
    assert 'tracker_things{unit="220100"} 3.0' in generate_latest(registry).decode()


def test_a_scrape_does_not_wait_for_a_hung_refresh():
    """A refresh stuck on a hung database: the scrape gets the last values after `wait`."""
    from eventlet.event import Event

    release, calls = Event(), []

    def compute():
        calls.append(1)
        if len(calls) == 2:
            release.wait()  # the database hangs
        yield gauge("tracker_things", "Things.", ["unit"], [(("220100",), len(calls))])

    source = CachedSource("hung", compute, max_age=0, wait=0.2)
    assert source.collect()[0].samples[0].value == 1

    started = time.monotonic()
    assert source.collect()[0].samples[0].value == 1  # the hung refresh: last values
    assert time.monotonic() - started < 1
    assert source.collect()[0].samples[0].value == 1 and len(calls) == 2  # still only one
    release.send()
    assert wait_for(lambda: source.refreshing is None, timeout=5, what="the refresh to end")
    assert source.collect()[0].samples[0].value >= 2
