"""notifications' use cases and reads against the in-memory storage: every guard they have."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.notifications import alerts, handlers, views
from services.notifications.delivery import RetryPolicy
from services.notifications.senders import DeliveryFailed
from services.notifications.subscriptions import make_subscription
from shared.batches import Batch
from shared.domain.units import PROVINCE
from shared.http import Problem
from tests.support.fakes.notifications import InMemoryNotifications

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
FIRM = "91220101000000006F"
SECRET = "whsec_" + "A" * 32
UNIT = {"kind": "unit", "subject": "220100", "key_id": "k1"}
PROVINCE_KEY = {"kind": "unit", "subject": PROVINCE, "key_id": "k2"}
OTHER_UNIT = {"kind": "unit", "subject": "220200", "key_id": "k3"}
ADMIN = {"kind": "admin", "subject": "admin", "key_id": "k4"}


def change(seq: int, old: str = "none", new: str = "gazelle", uscc: str = FIRM) -> dict:
    return {"id": f"{uscc}:{seq}", "uscc": uscc, "seq": seq, "unit": "220100", "from": old,
            "to": new, "ruleset": "jl-2025"}  # fmt: skip


def finding(revision: int = 1, status: str = "open", unit: str | None = "220100") -> dict:
    return {
        "finding_id": "overdue:JL-INC-0001:x:2020-01-01",
        "event_id": f"overdue:JL-INC-0001:x:2020-01-01#{revision}",
        "kind": "incubation_overdue",
        "incubator_id": "JL-INC-0001",
        "uscc": FIRM,
        "unit": unit,
        "detail": "beyond 48 months",
        "status": status,
        "resolution": "the incubation now ends within its limit" if status == "resolved" else None,
        "revision": revision,
    }


def subscribe(store: InMemoryNotifications, channel: str = "webhook", **filters: Any) -> str:
    target = {"url": "http://receiver/", "secret": SECRET} if channel == "webhook" else {}
    if channel == "email":
        target = {"address": "bureau@example.org"}
    subscription = make_subscription({"unit": "220100", "channel": channel, **target, **filters})
    store.add_subscription(subscription)
    return subscription["sub_id"]


def request(query: str = "", body: Any = None) -> Request:
    data = None if body is None else json.dumps(body)
    return Request(EnvironBuilder(query_string=query, data=data).get_environ())


# tier changes ---------------------------------------------------------------------------------


def test_a_tier_change_is_alerted_to_its_unit_once_and_its_seq_remembered():
    store = InMemoryNotifications()
    made = handlers.tier_changes(store, Batch([change(1)]), NOW)
    again = handlers.tier_changes(store, Batch([change(1)]), NOW)  # redelivered
    assert [a["unit"] for a in made] == ["220100"] and again == []
    assert list(store.alerts) == [f"tier_changed:{FIRM}:1:220100"]
    assert store.seqs == {FIRM: 1}


def test_a_change_older_than_the_last_announced_seq_is_not_alerted():
    store = InMemoryNotifications()
    handlers.tier_changes(store, Batch([change(3)]), NOW)
    assert handlers.tier_changes(store, Batch([change(2)]), NOW) == []
    assert store.seqs == {FIRM: 3}


def test_a_batch_alerts_each_firm_s_changes_in_seq_order_whatever_their_order():
    store = InMemoryNotifications()
    made = handlers.tier_changes(store, Batch([change(2, "gazelle", "unicorn"), change(1)]), NOW)
    assert [a["data"]["seq"] for a in made] == [1, 2, 2]  # the province hears of the unicorn
    assert [a["unit"] for a in made] == ["220100", "220100", PROVINCE]


def test_seqs_advance_only_once_the_alerts_are_stored():
    store = InMemoryNotifications()

    def down(alerts: list) -> None:
        raise ConnectionError("database down")

    store.add_alerts = down  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        handlers.tier_changes(store, Batch([change(1)]), NOW)
    assert store.seqs == {}  # so the redelivered change makes its alert again


def test_a_change_for_no_known_unit_alerts_nobody():
    store = InMemoryNotifications()
    assert handlers.tier_changes(store, Batch([{**change(1), "unit": None}]), NOW) == []


def test_deliveries_follow_the_subscriptions_filters():
    store = InMemoryNotifications()
    everything = subscribe(store)
    unicorns = subscribe(store, tiers=["unicorn"])
    findings_only = subscribe(store, kinds=["finding"])
    handlers.tier_changes(store, Batch([change(1)]), NOW)
    handlers.findings(store, Batch([finding()]), NOW)
    by_sub = sorted((d["sub_id"], d["alert_id"].split(":")[0]) for d in store.deliveries.values())
    assert by_sub == sorted(
        [
            (everything, "tier_changed"),
            (everything, "finding"),
            (unicorns, "finding"),
            (findings_only, "finding"),
        ]
    )


# findings -------------------------------------------------------------------------------------


def test_each_state_of_a_finding_is_alerted_once():
    store = InMemoryNotifications()
    raised = handlers.findings(store, Batch([finding(1)]), NOW)
    handlers.findings(store, Batch([finding(1)]), NOW)  # the same event again
    handlers.findings(store, Batch([finding(2, "resolved")]), NOW)
    assert [a["unit"] for a in raised] == ["220100"]
    assert sorted(store.alerts) == [
        "finding:overdue:JL-INC-0001:x:2020-01-01#1:220100",
        "finding:overdue:JL-INC-0001:x:2020-01-01#2:220100",
    ]


def test_a_finding_whose_carrier_has_no_unit_yet_is_alerted_to_nobody():
    store = InMemoryNotifications()
    assert handlers.findings(store, Batch([finding(unit=None)]), NOW) == []
    assert store.alerts == {}


def test_a_resolved_finding_says_so_in_its_mail():
    record = alerts.alert("finding", "220100", "x#2", finding(2, "resolved"), NOW)
    subject, chinese, english = alerts.lines(record, "http://tiering")
    assert "已解除" in subject and any("已解除" in line for line in chinese)
    assert "Resolved: the incubation now ends within its limit" in english


# the digest -----------------------------------------------------------------------------------


def test_the_digest_counts_one_day_s_alerts_and_is_stored_once():
    store = InMemoryNotifications()
    handlers.tier_changes(store, Batch([change(1)]), NOW)
    handlers.tier_changes(store, Batch([change(1, uscc="91220101000000014X")]), NOW - timedelta(1))
    made = handlers.digest(store, NOW.date(), NOW)
    handlers.digest(store, NOW.date(), NOW + timedelta(hours=1))  # the next hour's timer
    assert made[0]["data"] == {"day": "2026-06-01", "total": 1, "by_unit": {"220100": 1}}
    assert [a for a in store.alerts if a.startswith("digest:")] == ["digest:2026-06-01:220000"]
    later = handlers.digest(store, NOW.date(), NOW)[0]["data"]
    assert later["total"] == 1  # digests are not counted in digests


# deliveries -----------------------------------------------------------------------------------


class Receiver:
    def __init__(self, failures: int = 0):
        self.failures, self.sent = failures, []

    def send(self, subscription: dict, alert: dict) -> None:
        if self.failures:
            self.failures -= 1
            raise DeliveryFailed("HTTP 503")
        self.sent.append(alert["alert_id"])


def deliver_until_settled(store, receiver, policy) -> list[tuple[str, str]]:
    outcomes, now = [], NOW
    for _ in range(policy.max_attempts + 2):
        outcomes += handlers.deliver_due(store, {"webhook": receiver}, policy, now)
        now += timedelta(seconds=policy.max_delay_seconds + 1)
    return outcomes


def test_a_failed_delivery_is_retried_with_back_off_then_sent():
    store, receiver = InMemoryNotifications(), Receiver(failures=2)
    subscribe(store)
    handlers.tier_changes(store, Batch([change(1)]), NOW)
    policy = RetryPolicy(max_attempts=5, first_delay_seconds=30, max_delay_seconds=60)
    assert handlers.deliver_due(store, {"webhook": receiver}, policy, NOW) == [
        ("webhook", "retried")
    ]
    (delivery,) = store.deliveries.values()
    assert delivery["state"] == "pending" and delivery["last_error"] == "HTTP 503"
    assert NOW + timedelta(seconds=15) <= delivery["next_attempt_at"] <= NOW + timedelta(seconds=30)
    assert handlers.deliver_due(store, {"webhook": receiver}, policy, NOW) == []  # not due yet
    outcomes = deliver_until_settled(store, receiver, policy)
    assert outcomes == [("webhook", "retried"), ("webhook", "sent")]
    assert delivery["state"] == "sent" and delivery["attempts"] == 3
    assert receiver.sent == [f"tier_changed:{FIRM}:1:220100"]


def test_a_delivery_gives_up_after_the_bound():
    store, receiver = InMemoryNotifications(), Receiver(failures=100)
    subscribe(store)
    handlers.tier_changes(store, Batch([change(1)]), NOW)
    policy = RetryPolicy(max_attempts=3, first_delay_seconds=1, max_delay_seconds=2)
    outcomes = deliver_until_settled(store, receiver, policy)
    assert outcomes == [("webhook", "retried")] * 2 + [("webhook", "dead_lettered")]
    (delivery,) = store.deliveries.values()
    assert delivery["state"] == "dead" and delivery["attempts"] == 3


def test_a_delivery_to_a_removed_subscription_is_dead_at_once():
    store, receiver = InMemoryNotifications(), Receiver()
    sub_id = subscribe(store)
    handlers.tier_changes(store, Batch([change(1)]), NOW)
    store.remove_subscription(sub_id)
    outcomes = handlers.deliver_due(store, {"webhook": receiver}, RetryPolicy(), NOW)
    assert outcomes == [("webhook", "dead_lettered")] and receiver.sent == []
    assert next(iter(store.deliveries.values()))["last_error"] == "subscription removed"


def test_the_jittered_delay_stays_within_half_and_all_of_the_ceiling():
    policy = RetryPolicy(max_attempts=10, first_delay_seconds=30, max_delay_seconds=100)
    for attempts, ceiling in ((1, 30), (2, 60), (3, 100), (9, 100)):
        wait = (policy.next_attempt(attempts, NOW, random.Random(attempts)) - NOW).total_seconds()
        assert ceiling / 2 <= wait <= ceiling


# the inbox ------------------------------------------------------------------------------------


def test_an_inbox_is_read_by_its_unit_the_province_and_admins_only():
    store = InMemoryNotifications()
    handlers.tier_changes(store, Batch([change(1)]), NOW)
    for principal in (UNIT, PROVINCE_KEY, ADMIN):
        assert len(views.inbox(store, principal, request(), "220100")["items"]) == 1
    with pytest.raises(Problem) as refused:
        views.inbox(store, OTHER_UNIT, request(), "220100")
    assert refused.value.status == 403


def test_a_code_that_names_no_unit_is_not_an_empty_inbox():
    with pytest.raises(Problem) as refused:
        views.inbox(InMemoryNotifications(), ADMIN, request(), "2201０0")
    assert refused.value.status == 404 and "unit" in refused.value.errors


def test_inbox_pages_continue_after_the_cursor_and_a_bad_cursor_is_refused():
    store = InMemoryNotifications()
    for n in range(1, 4):
        handlers.tier_changes(store, Batch([change(n)]), NOW + timedelta(minutes=n))
    first = views.inbox_page(store, "220100", False, None, 2)
    second = views.inbox_page(store, "220100", False, first["next_cursor"], 2)
    assert [a["data"]["seq"] for a in first["items"] + second["items"]] == [3, 2, 1]
    assert second["next_cursor"] is None
    with pytest.raises(Problem) as refused:
        views.inbox_page(store, "220100", False, "bm90LWEtdGltZXxpZA", 2)
    assert refused.value.status == 400


def test_marking_read_takes_the_unit_s_own_key_or_an_admin_s():
    store = InMemoryNotifications()
    handlers.tier_changes(store, Batch([change(1)]), NOW)
    for principal in (PROVINCE_KEY, OTHER_UNIT):
        with pytest.raises(Problem) as refused:
            handlers.mark_read_for(store, principal, request(body={"all": True}), "220100")
        assert refused.value.status == 403
    with pytest.raises(Problem) as invalid:
        handlers.mark_read_for(store, UNIT, request(body={"all": True, "ids": ["x"]}), "220100")
    assert invalid.value.status == 422
    assert handlers.mark_read_for(store, UNIT, request(body={"all": True}), "220100") == {
        "marked": 1
    }


def test_marking_read_forgets_the_portal_s_cached_pages():
    store = InMemoryNotifications()
    handlers.tier_changes(store, Batch([change(1)]), NOW)
    assert len(views.cached_page(store, "220100", True, None, 10)["items"]) == 1
    handlers.mark_read(store, "220100", None)
    assert views.cached_page(store, "220100", True, None, 10)["items"] == []


# subscriptions --------------------------------------------------------------------------------


def test_subscriptions_are_an_admin_s_and_never_show_their_secret():
    store = InMemoryNotifications()
    body = {"unit": "220100", "channel": "webhook", "url": "http://r/", "secret": SECRET}
    with pytest.raises(Problem) as refused:
        handlers.add_subscription(store, UNIT, request(body=body))
    assert refused.value.status == 403 and store.subs == {}
    added = handlers.add_subscription(store, ADMIN, request(body=body))
    listed = views.subscriptions(store, ADMIN, request("unit=220100"))["items"]
    assert "secret" not in added and listed == [added]
    with pytest.raises(Problem) as not_admin:
        views.subscriptions(store, UNIT, request())
    assert not_admin.value.status == 403


def test_an_invalid_subscription_names_its_fields():
    with pytest.raises(Problem) as invalid:
        handlers.add_subscription(
            InMemoryNotifications(), ADMIN, request(body={"unit": "220100", "channel": "webhook"})
        )
    assert invalid.value.status == 422 and {"url", "secret"} <= set(invalid.value.errors)


def test_removing_takes_an_admin_and_an_unknown_subscription_is_404():
    store = InMemoryNotifications()
    sub_id = subscribe(store)
    with pytest.raises(Problem) as refused:
        handlers.remove_subscription(store, UNIT, sub_id)
    assert refused.value.status == 403
    handlers.remove_subscription(store, ADMIN, sub_id)
    with pytest.raises(Problem) as gone:
        handlers.remove_subscription(store, ADMIN, sub_id)
    assert gone.value.status == 404


def test_the_digest_day_is_a_date():
    assert handlers.digest(InMemoryNotifications(), date(2026, 1, 2), NOW)[0]["unit"] == PROVINCE
