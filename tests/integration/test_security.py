"""Who may do what, and what input can never do: keys on every write and inbox read, admin keys
for administration, body and rate limits, and no operator reaching a database query."""

import json
import socket

import pytest
import requests
from pymongo import MongoClient

from services.incubators.service import IncubatorsService
from services.notifications import alerts
from services.notifications.senders import DeliveryFailed, EmailSender
from services.notifications.service import NotificationsService
from services.registry.service import RegistryService
from services.tiering.service import TieringService
from shared.domain import clock
from shared.http import MAX_BODY_BYTES
from shared.ingress.topology import REJECTED_QUEUE
from shared.openapi import build_document
from tests.support.events import admission, cloud_event, incubator, jilin_uscc
from tests.support.receivers import TLS_DIR
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

INC = "JL-INC-0001"
USCC = jilin_uscc()
SINGLE = "application/cloudevents+json"
PROBLEM = "application/problem+json"


def start(container_factory, service_cls, config):
    container_factory(service_cls, config).start()
    return f"http://{config['WEB_SERVER_ADDRESS']}"


class OwnerKeys:
    """`issue(owner)` as `tracker keys` names owners, from the running auth service."""

    def __init__(self, keys):
        self.issue = keys.for_owner


@pytest.fixture
def incubators(container_factory, config_for, publisher, auth_service, keys):
    config = {**config_for("incubators"), "EVENTS_RATE_LIMIT": {"per_second": 0.2, "burst": 3}}
    base = start(container_factory, IncubatorsService, config)
    publisher.publish_events([cloud_event("incubator.registered", incubator(INC))])
    admin = keys.headers("admin")
    wait_for(
        lambda: requests.get(f"{base}/v1/incubators/{INC}", headers=admin, timeout=5).ok,
        what="carrier",
    )
    return base, OwnerKeys(keys), config


@pytest.fixture
def notifications(container_factory, config_for, auth_service, keys):
    config = config_for("notifications")
    base = start(container_factory, NotificationsService, config)
    return base, OwnerKeys(keys), config


@pytest.fixture
def readers(container_factory, config_for, auth_service):
    """registry and tiering, whose reads need keys too."""
    return {
        cls: start(container_factory, cls, config_for(cls.name))
        for cls in (RegistryService, TieringService)
    }


def post_event(base, key, body, content_type=SINGLE):
    headers = {"Content-Type": content_type}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = body if isinstance(body, bytes) else json.dumps(body)
    return requests.post(f"{base}/v1/events", data=data, headers=headers, timeout=10)


def admit(code=None):
    return cloud_event(
        "incubator.firm_admitted", admission(INC, code or jilin_uscc()), source=f"/incubators/{INC}"
    )


def keyed_operations(service_cls):
    """(method, path) of every operation whose document says it needs a key."""
    document = build_document(service_cls, "test")
    return [
        (method.upper(), path.format(unit="220100", sub_id="sub_x", uscc=USCC, incubator_id=INC))
        for path, operations in document["paths"].items()
        for method, spec in operations.items()
        if spec.get("security")
    ]


def assert_unauthorised(response):
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Content-Type"].startswith(PROBLEM)


def test_every_keyed_operation_refuses_no_key_and_wrong_keys(incubators, notifications, readers):
    inc_base, _, _ = incubators
    notif_base, notif_keys, _ = notifications
    real = notif_keys.issue("admin")
    key_id = real.removeprefix("tk_").partition(".")[0]
    wrong = [
        "",
        "Bearer",
        "Bearer tk_",
        f"Bearer tk_{key_id}.wrong-secret",
        f"Basic {real}",
        "Bearer tk_nope.nope",
        f"Bearer {real}x",
    ]
    operations = [(inc_base, *op) for op in keyed_operations(IncubatorsService)]
    operations += [(notif_base, *op) for op in keyed_operations(NotificationsService)]
    for cls, base in readers.items():
        operations += [(base, *op) for op in keyed_operations(cls)]
    # every /v1 operation: POST /v1/events and 3 reads (incubators), 2 inbox and 3 admin
    # operations (notifications), 2 reads (registry), 4 reads (tiering)
    assert len(operations) == 15
    assert {path for _, _, path in operations} >= {"/v1/enterprises", "/v1/watchlist"}
    for base, method, path in operations:
        for header in wrong:
            headers = {"Authorization": header} if header else {}
            response = requests.request(
                method, f"{base}{path}", headers=headers, timeout=10, json={}
            )
            assert_unauthorised(response)


def test_administration_needs_an_admin_key_and_units_read_only_their_inbox(notifications):
    base, keys, _ = notifications
    unit, admin = keys.issue("220100"), keys.issue("admin")
    as_unit = {"Authorization": f"Bearer {unit}"}
    subscription = {"unit": "220100", "channel": "email", "address": "ops@example.org"}
    for method, path, body in [
        ("GET", "/v1/admin/subscriptions", None),
        ("POST", "/v1/admin/subscriptions", subscription),
        ("DELETE", "/v1/admin/subscriptions/sub_x", None),
        ("GET", "/v1/units/220200/alerts", None),
        ("POST", "/v1/units/220200/alerts/read", {"all": True}),
    ]:
        response = requests.request(method, f"{base}{path}", headers=as_unit, json=body, timeout=10)
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["Content-Type"].startswith(PROBLEM)
    assert requests.get(f"{base}/v1/units/220100/alerts", headers=as_unit, timeout=10).ok
    as_admin = {"Authorization": f"Bearer {admin}"}
    created = requests.post(
        f"{base}/v1/admin/subscriptions", json=subscription, headers=as_admin, timeout=10
    )
    assert created.status_code == 201


def test_post_events_is_rate_limited_per_key(incubators):
    base, keys, _ = incubators
    mine, other = keys.issue(INC), keys.issue(INC)
    statuses = [post_event(base, mine, admit()).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]  # a burst of 3
    limited = post_event(base, mine, admit())
    assert limited.status_code == 429
    assert limited.headers["Content-Type"].startswith(PROBLEM)
    assert 1 <= int(limited.headers["Retry-After"]) <= 5  # 0.2 tokens a second
    assert limited.json()["status"] == 429
    assert post_event(base, other, admit()).status_code == 202  # each key has its own bucket
    assert post_event(base, None, admit()).status_code == 401  # no key: refused, not counted


def test_bodies_over_the_limit_are_refused_unread(incubators):
    base, keys, _ = incubators
    key = keys.issue(INC)
    big = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = post_event(base, key, big)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith(PROBLEM)

    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:  # no Content-Length
        sock.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            + f"Authorization: Bearer {key}\r\nContent-Type: {SINGLE}\r\n\r\n".encode()
        )
        chunk = b"x" * 65536
        try:
            for _ in range(2 * MAX_BODY_BYTES // len(chunk)):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may close before reading it all
        status_line = sock.recv(4096).split(b"\r\n")[0]
    assert status_line.split()[1] in (b"400", b"413", b"422"), status_line


STRING_FIELDS = ("incubator_id", "uscc", "admitted_on")
INJECTED = ({"$ne": None}, {"$gt": ""}, ["x"], {"a.b": 1})
OPERATOR_NAMES = ("$where", "$set", "a.b", "data.uscc", "$")


def handled_admissions(config):
    """The ids of the admissions the incubators' ingress handled (its ledger)."""
    with MongoClient(config["MONGODB_URI"]) as client:
        ledger = client[config["MONGODB_DATABASE"]]["processed_events"]
        return {row["id"] for row in ledger.find({"type": "incubator.firm_admitted"}, {"id": 1})}


def test_objects_where_strings_belong_and_operator_names_are_refused_unpublished(
    incubators, queues
):
    base, keys, config = incubators
    cases = [(field, value, field) for field in STRING_FIELDS for value in INJECTED]
    cases += [(name, "1", name) for name in OPERATOR_NAMES]
    for field, value, named in cases:
        event = admit()
        event["data"][field] = value
        response = post_event(base, keys.issue(INC), event)  # a key each: rate limits aside
        assert response.status_code == 422, (field, value, response.text)
        assert f"data.{named}" in response.json()["errors"]["0"], (field, value)
    # None of them was published. The service consumes its own queue, so its depth says
    # nothing: a valid admission goes the same way after them, and once it is handled, it is
    # the only admission handled and nothing was rejected on the way.
    valid = admit()
    assert post_event(base, keys.issue(INC), valid).status_code == 202
    wait_for(lambda: valid["id"] in handled_admissions(config), what="the valid admission")
    assert handled_admissions(config) == {valid["id"]}
    assert queues.drain(REJECTED_QUEUE) == []


def test_operator_input_to_notifications_is_refused(notifications):
    base, keys, _ = notifications
    admin = {"Authorization": f"Bearer {keys.issue('admin')}"}
    cases = [
        (
            "POST",
            "/v1/admin/subscriptions",
            {"unit": {"$ne": None}, "channel": "email", "address": "a@b.cn"},
            "unit",
            422,
        ),
        (
            "POST",
            "/v1/admin/subscriptions",
            {"unit": "220100", "channel": "email", "address": "a@b.cn", "$where": "1"},
            "$where",
            422,
        ),
        ("POST", "/v1/units/220100/alerts/read", {"ids": [{"$ne": None}]}, "ids.0", 422),
        ("GET", "/v1/admin/subscriptions?unit[$ne]=x", None, "unit[$ne]", 400),
        ("GET", "/v1/units/220100/alerts?limit[$gt]=0", None, "limit[$gt]", 400),
    ]
    for method, path, body, field, status in cases:
        response = requests.request(method, f"{base}{path}", json=body, headers=admin, timeout=10)
        assert response.status_code == status, (path, response.text)
        assert field in response.json()["errors"], response.json()


def test_overlong_strings_are_refused(notifications):
    base, keys, _ = notifications
    admin = {"Authorization": f"Bearer {keys.issue('admin')}"}
    long_url = "https://example.org/" + "a" * 5000
    response = requests.post(
        f"{base}/v1/admin/subscriptions",
        json={
            "unit": "220100",
            "channel": "webhook",
            "url": long_url,
            "secret": "whsec_" + "A" * 40,
        },
        headers=admin,
        timeout=10,
    )
    assert response.status_code == 422 and "url" in response.json()["errors"]


def smtp_settings(sink, **tls):
    return {"host": "127.0.0.1", "port": sink.port, "sender": "tracker@jl.example", **tls}


def test_email_goes_over_verified_starttls_to_a_server_that_requires_it(smtp_tls_sink):
    digest = {"day": "2025-06-01", "total": 0, "by_unit": {}}
    alert = alerts.alert("digest", "220000", "2025-06-01", digest, clock.now())
    subscription = {"address": "kjj@jl.example"}
    public_ca = EmailSender(smtp_settings(smtp_tls_sink, starttls=True), "http://t")
    with pytest.raises(DeliveryFailed) as caught:  # the server's CA is not a public one
        public_ca.send(subscription, alert)
    assert "SSL" in str(caught.value)
    plain = EmailSender(smtp_settings(smtp_tls_sink), "http://t")
    with pytest.raises(DeliveryFailed):  # the server refuses mail without TLS
        plain.send(subscription, alert)
    assert smtp_tls_sink.messages() == []

    ours = EmailSender(
        smtp_settings(smtp_tls_sink, starttls=True, ca=str(TLS_DIR / "ca.pem")), "http://t"
    )
    ours.send(subscription, alert)
    assert len(wait_for(smtp_tls_sink.messages, what="the e-mail")) == 1
