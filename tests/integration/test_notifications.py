"""notifications against the real broker and database, with a real webhook receiver and a
real SMTP server."""

import json

import pytest
import requests
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import MongoClient
from standardwebhooks import Webhook

from services.notifications.service import NotificationsService
from services.notifications.signing import new_secret
from tests.support.events import finding_announced, jilin_uscc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

FAST = {"max_attempts": 5, "first_delay_seconds": 0.3, "max_delay_seconds": 1, "timeout_seconds": 1}


@pytest.fixture
def notif_config(config_for):
    return {**config_for("notifications"), "DELIVERY": FAST}


def start(container_factory, config):
    container = container_factory(NotificationsService, config)
    container.start()
    return container


class UnitKeys:
    """Unit and admin keys from the auth service notifications checks them with."""

    def __init__(self, keys):
        self.keys = keys

    def issue(self, owner):
        kind = "admin" if owner == "admin" else "unit"
        return self.keys.issue(kind, owner)


@pytest.fixture
def unit_keys(auth_service, keys):
    return UnitKeys(keys)


def change(code, seq, old, new, unit="220200", name="吉林碳谷新材料有限公司"):
    return {
        "id": f"{code}:{seq}",
        "uscc": code,
        "seq": seq,
        "name": name,
        "unit": unit,
        "from": old,
        "to": new,
        "ruleset": "jl-2025",
        "evaluated_year": 2024,
        "at": "2025-01-01T00:00:00+00:00",
        "explanation": "...",
        "checks": [
            {
                "tier": new,
                "condition": "3-year revenue CAGR ≥ 20%",
                "required": "≥ 0.2",
                "actual": 0.25,
                "passed": True,
            }
        ],
    }


def inbox(config, unit, key, **params):
    return requests.get(
        f"http://{config['WEB_SERVER_ADDRESS']}/v1/units/{unit}/alerts",
        headers={"Authorization": f"Bearer {key}"} if key else {},
        params=params,
        timeout=5,
    )


def seqs(response):
    return [item["data"]["seq"] for item in response.json()["items"]]


def test_routing_ordering_and_inbox_authorisation(container_factory, notif_config, unit_keys):
    start(container_factory, notif_config)
    jilin_key, province_key, admin_key = (
        unit_keys.issue("220200"),
        unit_keys.issue("220000"),
        unit_keys.issue("admin"),
    )
    code = jilin_uscc()
    dispatch = event_dispatcher(notif_config)
    for event in (
        change(code, 2, "gazelle", "unicorn"),
        change(code, 1, "none", "gazelle"),
        change(code, 2, "gazelle", "unicorn"),
        change(code, 3, "unicorn", "gazelle"),
    ):
        dispatch("tiering", "tier_changed", event)  # 1 arrives late, 2 twice

    items = wait_for(
        lambda: len(i := inbox(notif_config, "220200", jilin_key).json()["items"]) == 2 and i,
        what="two alerts for 220200",
    )
    assert [i["data"]["seq"] for i in items] == [3, 2]  # newest first; no stale, no repeat
    assert items[0]["type"] == "tracker.alert.tier_changed" and items[0]["read"] is False
    province = inbox(notif_config, "220000", province_key).json()["items"]
    assert sorted(i["data"]["seq"] for i in province) == [2, 3]  # to and from 独角兽

    assert inbox(notif_config, "220200", None).status_code == 401
    assert inbox(notif_config, "220200", "tk_nope.nope").status_code == 401
    assert inbox(notif_config, "220200", unit_keys.issue("220100")).status_code == 403
    assert inbox(notif_config, "220200", province_key).status_code == 200  # every unit
    assert inbox(notif_config, "220200", admin_key).status_code == 200

    page = inbox(notif_config, "220200", jilin_key, limit=1).json()
    second = inbox(notif_config, "220200", jilin_key, limit=1, cursor=page["next_cursor"]).json()
    assert [page["items"][0]["data"]["seq"], second["items"][0]["data"]["seq"]] == [3, 2]

    base = f"http://{notif_config['WEB_SERVER_ADDRESS']}/v1/units/220200/alerts/read"
    marked = requests.post(
        base,
        json={"ids": [items[0]["id"]]},
        headers={"Authorization": f"Bearer {jilin_key}"},
        timeout=5,
    )
    assert marked.json() == {"marked": 1}
    unread = inbox(notif_config, "220200", jilin_key, unread="true").json()["items"]
    assert [i["data"]["seq"] for i in unread] == [2]
    assert (
        requests.post(
            base, json={"ids": []}, timeout=5, headers={"Authorization": f"Bearer {province_key}"}
        ).status_code
        == 403
    )

    # A later change of the same firm, the same way: once it is in the inbox, the late seq 1
    # and the repeated seq 2 before it have had their turn, and left nothing.
    dispatch("tiering", "tier_changed", change(code, 4, "gazelle", "eaglet"))
    wait_for(
        lambda: 4 in seqs(inbox(notif_config, "220200", jilin_key)),
        what="the later change in the inbox",
    )
    assert seqs(inbox(notif_config, "220200", jilin_key)) == [4, 3, 2]
    assert sorted(seqs(inbox(notif_config, "220000", province_key))) == [2, 3]


def test_an_inbox_is_named_by_an_ascii_unit_code_and_limits_are_ascii_digits(
    container_factory, notif_config, unit_keys
):
    start(container_factory, notif_config)
    admin_key = unit_keys.issue("admin")
    unknown = inbox(notif_config, "2202０0", admin_key)  # an empty inbox before, for any text
    assert unknown.status_code == 404 and "unit" in unknown.json()["errors"]
    odd_limit = inbox(notif_config, "220200", admin_key, limit="５")
    assert odd_limit.status_code == 400 and "limit" in odd_limit.json()["errors"]
    assert inbox(notif_config, "220200", admin_key, limit="5").json()["items"] == []


def add_subscription(config, admin_key, **body):
    return requests.post(
        f"http://{config['WEB_SERVER_ADDRESS']}/v1/admin/subscriptions",
        json=body,
        headers={"Authorization": f"Bearer {admin_key}"},
        timeout=5,
    )


def test_webhooks_are_signed_retried_through_failures_and_time_outs(
    container_factory, notif_config, unit_keys, webhook_receiver
):
    receiver, url = webhook_receiver
    receiver.script = [500, "timeout", 503]
    start(container_factory, notif_config)
    admin_key, secret = unit_keys.issue("admin"), new_secret()
    created = add_subscription(
        notif_config, admin_key, unit="220200", channel="webhook", url=url, secret=secret
    )
    assert created.status_code == 201 and "secret" not in created.json()
    listed = requests.get(
        f"http://{notif_config['WEB_SERVER_ADDRESS']}/v1/admin/subscriptions",
        headers={"Authorization": f"Bearer {admin_key}"},
        timeout=5,
    ).json()
    assert secret not in json.dumps(listed)
    assert (
        add_subscription(
            notif_config,
            unit_keys.issue("220200"),
            unit="220200",
            channel="webhook",
            url=url,
            secret=secret,
        ).status_code
        == 403
    )
    bad = add_subscription(notif_config, admin_key, unit="220200", channel="webhook")
    assert bad.status_code == 422 and {"url", "secret"} <= set(bad.json()["errors"])

    code = jilin_uscc()
    event_dispatcher(notif_config)("tiering", "tier_changed", change(code, 1, "none", "gazelle"))
    delivered = wait_for(receiver.delivered, timeout=30, what="the webhook delivered")
    assert len(delivered) == 1 and len(receiver.received) == 4  # 500, time-out, 503, 200
    hook = delivered[0]
    payload = Webhook(secret).verify(hook.body, hook.headers)  # independent verification
    assert payload["type"] == "tracker.alert.tier_changed" and payload["data"]["uscc"] == code
    assert {d.headers["webhook-id"] for d in receiver.received} == {payload["id"]}


def test_a_restart_mid_retries_loses_nothing_and_sends_nothing_twice(
    container_factory, notif_config, unit_keys, webhook_receiver
):
    receiver, url = webhook_receiver
    receiver.default = 500
    config = {**notif_config, "DELIVERY": {**FAST, "max_attempts": 30}}
    first = start(container_factory, config)
    add_subscription(
        config,
        unit_keys.issue("admin"),
        unit="220300",
        channel="webhook",
        url=url,
        secret=new_secret(),
    )
    codes = [jilin_uscc() for _ in range(3)]
    for code in codes:
        event_dispatcher(config)(
            "tiering", "tier_changed", change(code, 1, "none", "eaglet", unit="220300")
        )
    wait_for(lambda: len(receiver.received) >= 6, timeout=30, what="several failed attempts")
    first.stop()
    attempts_before = len(receiver.received)
    start(container_factory, config)
    receiver.default = 200
    wait_for(lambda: len(receiver.delivered()) == 3, timeout=30, what="all three delivered")
    assert len(receiver.received) > attempts_before
    ids = [d.headers["webhook-id"] for d in receiver.delivered()]
    assert sorted(ids) == sorted(f"tier_changed:{c}:1:220300" for c in codes)


def test_the_last_failure_dead_letters_with_the_reason(
    container_factory, notif_config, unit_keys, webhook_receiver
):
    receiver, url = webhook_receiver
    receiver.default = 410
    config = {**notif_config, "DELIVERY": {**FAST, "max_attempts": 3}}
    start(container_factory, config)
    add_subscription(
        config,
        unit_keys.issue("admin"),
        unit="220400",
        channel="webhook",
        url=url,
        secret=new_secret(),
    )
    event_dispatcher(config)(
        "tiering", "tier_changed", change(jilin_uscc(), 1, "none", "eaglet", unit="220400")
    )

    def dead():
        with MongoClient(config["MONGODB_URI"]) as client:
            return list(client[config["MONGODB_DATABASE"]].deliveries.find({"state": "dead"}))

    parked = wait_for(dead, timeout=30, what="a dead delivery")
    assert parked[0]["attempts"] == 3 and parked[0]["last_error"] == "HTTP 410"
    # A later alert to the same receiver, accepted: by the time it is delivered, the dead one
    # would have been tried again (its retries come within a second), and it was not.
    receiver.default = 200
    event_dispatcher(config)(
        "tiering", "tier_changed", change(jilin_uscc(), 1, "none", "eaglet", unit="220400")
    )
    wait_for(receiver.delivered, timeout=30, what="the later alert delivered")
    assert [d.answered for d in receiver.received] == [410, 410, 410, 200]


def test_email_reaches_a_real_smtp_server_with_the_chinese_intact(
    container_factory, notif_config, unit_keys, smtp_sink
):
    config = {
        **notif_config,
        "SMTP": {"host": "127.0.0.1", "port": smtp_sink.port, "sender": "tracker@jl.example"},
    }
    start(container_factory, config)
    created = add_subscription(
        config,
        unit_keys.issue("admin"),
        unit="222400",
        channel="email",
        address="kjj@yanbian.example",
        kinds=["tier_changed"],
    )
    assert created.status_code == 201
    code = jilin_uscc()
    event_dispatcher(config)(
        "tiering",
        "tier_changed",
        change(code, 1, "none", "gazelle", unit="222400", name="延边跨境电商软件有限公司"),
    )
    messages = wait_for(smtp_sink.messages, timeout=30, what="an e-mail")
    message = messages[0]
    assert message["Subject"] == "[企业梯度层级变化] 延边跨境电商软件有限公司: 无 → 瞪羚"
    text = message.get_body(("plain",)).get_content()
    assert "企业：延边跨境电商软件有限公司" in text and f"USCC: {code}" in text
    assert "延边朝鲜族自治州" in text
    assert message.get_body(("html",)) is not None


def test_the_province_gets_a_daily_digest(container_factory, notif_config, unit_keys):
    start(container_factory, notif_config)
    dispatch = event_dispatcher(notif_config)
    dispatch("incubators", "incubator_finding", finding_announced())
    key = unit_keys.issue("220100")
    wait_for(lambda: inbox(notif_config, "220100", key).json()["items"], what="the finding")
    from shared.domain import clock

    with ClusterRpcProxy(notif_config, timeout=30) as cluster:
        assert cluster.notifications.digest(clock.today().isoformat()) == 1
    digest = inbox(notif_config, "220000", unit_keys.issue("220000")).json()["items"]
    assert digest[0]["data"]["by_unit"] == {"220100": 1}
