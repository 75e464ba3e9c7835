"""Subscriptions managed over notifications' RPC, as `tracker subscriptions` does it: real
broker, real database, the service in this process, no mocks."""

import json

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import MongoClient
from standardwebhooks import Webhook

from services.notifications.service import NotificationsService
from tests.support.events import finding_announced
from tests.support.waiting import wait_for
from tools.cli import main

pytestmark = pytest.mark.integration

FAST = {"max_attempts": 3, "first_delay_seconds": 0.3, "max_delay_seconds": 1, "timeout_seconds": 1}
EMAIL = {"unit": "220100", "channel": "email", "address": "kjj@changchun.example"}


@pytest.fixture
def notifications(container_factory, config_for, monkeypatch):
    """The notifications service on the test's vhost; `tracker` pointed at the same vhost."""
    config = {**config_for("notifications"), "DELIVERY": FAST}
    container_factory(NotificationsService, config).start()
    monkeypatch.setenv("AMQP_URI", config["AMQP_URI"])
    return config


def call(config, method, *args):
    with ClusterRpcProxy(config, timeout=30) as cluster:
        return getattr(cluster.notifications, method)(*args)


def stored(config):
    with MongoClient(config["MONGODB_URI"]) as client:
        return list(client[config["MONGODB_DATABASE"]].subscriptions.find({}, {"_id": False}))


def printed_json(out):
    return json.loads(out.splitlines()[0])


def test_a_webhook_added_by_the_command_is_signed_with_the_secret_it_printed_once(
    notifications, webhook_receiver, capsys
):
    receiver, url = webhook_receiver
    assert main(["subscriptions", "add", "--unit", "220100", "--webhook", url]) == 0
    out = capsys.readouterr().out
    shown = printed_json(out)
    secret = out.rsplit(": ", 1)[1].strip()
    assert secret.startswith("whsec_") and "secret" not in shown
    assert shown["unit"] == "220100" and shown["channel"] == "webhook" and shown["url"] == url

    assert main(["subscriptions", "list", "--unit", "220100"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["sub_id"] for s in listed] == [shown["sub_id"]] and secret not in json.dumps(listed)
    assert main(["subscriptions", "list", "--unit", "220200"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    event_dispatcher(notifications)("incubators", "incubator_finding", finding_announced())
    (hook,) = wait_for(receiver.delivered, timeout=30, what="the webhook delivered")
    assert Webhook(secret).verify(hook.body, hook.headers)["data"]["unit"] == "220100"

    assert main(["subscriptions", "remove", shown["sub_id"]]) == 0
    assert stored(notifications) == []
    assert main(["subscriptions", "remove", shown["sub_id"]]) == 1  # gone already
    assert capsys.readouterr().out == f"no subscription {shown['sub_id']}\n"


def test_a_secret_given_is_kept_and_never_printed(notifications, capsys):
    secret = "whsec_" + "A" * 32
    hook = "https://hooks.jl.example/tracker"
    argv = ["subscriptions", "add", "--unit", "220300", "--webhook", hook, "--secret", secret]
    assert main([*argv, "--kinds", "tier_changed", "--tiers", "gazelle"]) == 0
    out = capsys.readouterr().out
    assert secret not in out and len(out.splitlines()) == 1
    assert printed_json(out)["kinds"] == ["tier_changed"]
    (document,) = stored(notifications)
    assert document["secret"] == secret and document["tiers"] == ["gazelle"]


def test_the_same_request_adds_one_subscription_and_answers_the_same(notifications):
    webhook = {"unit": "220200", "channel": "webhook", "url": "http://127.0.0.1:9/hook"}
    first = call(notifications, "create_subscription", webhook, "req-1")
    again = call(notifications, "create_subscription", webhook, "req-1")
    assert again == first and first["secret"].startswith("whsec_")
    (document,) = stored(notifications)
    assert (
        document["secret"] == first["secret"]
        and document["sub_id"] == first["subscription"]["sub_id"]
    )
    other = call(notifications, "create_subscription", EMAIL, "req-2")
    assert other["secret"] is None and other["subscription"]["address"] == EMAIL["address"]
    assert len(call(notifications, "subscriptions", None)) == 2
    assert [s["unit"] for s in call(notifications, "subscriptions", "220100")] == ["220100"]
    assert call(notifications, "delete_subscription", other["subscription"]["sub_id"]) is True
    assert call(notifications, "delete_subscription", other["subscription"]["sub_id"]) is False


@pytest.mark.parametrize(
    ("method", "args", "field"),
    [
        ("create_subscription", ({**EMAIL, "unit": "999999"}, "r1"), "unit"),
        ("create_subscription", ({**EMAIL, "unit": "2201０0"}, "r1"), "unit"),
        ("create_subscription", ({**EMAIL, "address": "not an address"}, "r1"), "address"),
        ("create_subscription", ({"unit": "220100", "channel": "webhook"}, "r1"), "url"),
        (
            "create_subscription",
            ({"unit": "220100", "channel": "webhook", "url": "ftp://x.example/h"}, "r1"),
            "url",
        ),
        ("create_subscription", ({**EMAIL, "kinds": ["weather"]}, "r1"), "kinds.0"),
        ("create_subscription", ({**EMAIL, "channel": "sms"}, "r1"), "channel"),
        ("create_subscription", ({**EMAIL, "$where": "1"}, "r1"), "$where"),
        ("create_subscription", ("email me", "r1"), "_schema"),
        ("create_subscription", (EMAIL, "a request"), "request_id"),
        ("create_subscription", (EMAIL, {"$ne": None}), "request_id"),
        ("subscriptions", ("999999",), "unit"),
        ("subscriptions", ({"$ne": None},), "unit"),
        ("delete_subscription", ({"$ne": None},), "sub_id"),
        ("delete_subscription", ("sub_../x",), "sub_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    notifications, method, args, field
):
    call(notifications, "create_subscription", EMAIL, "kept")
    with pytest.raises(RemoteError) as refused:
        call(notifications, method, *args)
    assert refused.value.exc_type == "InvalidSubscription"
    assert f"{field}:" in refused.value.value
    assert [s["address"] for s in stored(notifications)] == [EMAIL["address"]]


def test_the_command_says_what_the_service_refused(notifications, capsys):
    argv = ["subscriptions", "add", "--unit", "999999", "--email", "kjj@changchun.example"]
    assert main(argv) == 2
    assert capsys.readouterr().out.startswith("invalid subscription: unit: Must be one of")
    assert main(["subscriptions", "remove", "nonsense"]) == 2
    assert "sub_id:" in capsys.readouterr().out
    assert stored(notifications) == []
