"""The demo loader's count of finished events: honest, so the bar is full only when drained."""

from prometheus_client import CollectorRegistry, Counter, generate_latest

from tools.province.loader import Tally, count_into


def scrape(consumed, dispatched=()):
    registry = CollectorRegistry()
    events = Counter(
        "tracker_events_consumed", "", ["service", "type", "outcome"], registry=registry
    )
    sent = Counter("tracker_events_dispatched", "", ["service", "type"], registry=registry)
    for (service, event_type, outcome), n in consumed.items():
        events.labels(service, event_type, outcome).inc(n)
    for (service, event_type), n in dict(dispatched).items():
        sent.labels(service, event_type).inc(n)
    return generate_latest(registry).decode()


def test_events_settled_at_ingress_are_finished_only_once_what_they_caused_is_handled():
    counted = Tally()
    count_into(
        counted,
        scrape(
            {
                ("registry", "enterprise.annual_report", "processed"): 90,
                ("registry", "enterprise.annual_report", "duplicate"): 5,
                ("registry", "enterprise.annual_report", "retried"): 7,  # not settled yet
                ("registry", "enterprise.registered", "rejected"): 4,
                ("registry", "other", "rejected"): 1,  # no type the loader could read
            },
            {("registry", "enterprise_updated"): 80},
        ),
    )
    count_into(counted, scrape({("tiering", "enterprise_updated", "processed"): 50}))
    count_into(counted, scrape({("incubators", "enterprise_updated", "processed"): 80}))
    # each snapshot goes to tiering and to incubators: 160 deliveries owed
    assert (counted.ingress, counted.owed, counted.internal) == (100, 160, 130)
    assert counted.finished == 100 - 30  # 30 snapshots still wait at tiering


def test_once_drained_every_event_is_finished():
    """The whole province's counts at the end of a load: 117,968 events, one of them without
    a type (rejected as `other`), which the bar once left unfinished."""
    counted = Tally()
    count_into(
        counted,
        scrape(
            {
                ("registry", "enterprise.registered", "processed"): 117_967,
                ("registry", "other", "rejected"): 1,
                ("tiering", "enterprise_updated", "processed"): 21_000,
                ("incubators", "enterprise_updated", "processed"): 21_000,
                ("notifications", "tier_changed", "processed"): 900,
            },
            {("registry", "enterprise_updated"): 21_000, ("tiering", "tier_changed"): 900},
        ),
    )
    assert counted.finished == 117_968


def test_finished_never_goes_below_nothing():
    assert Tally(ingress=10, owed=40, internal=0).finished == 0
    assert Tally(ingress=10, owed=40, internal=40).finished == 10
