"""Keys and webhook secrets never leave: incubators and notifications run as real processes
(logging at DEBUG) through a flow with keys right, wrong, revoked, rotated and rate-limited;
then their logs, every response (status, headers, body) and /metrics are searched."""

import json

import pytest
import requests

from tests.support.events import admission, cloud_event, incubator, jilin_uscc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

INC, OTHER = "JL-INC-0007", "JL-INC-0008"
SINGLE = "application/cloudevents+json"
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LW5ldmVyLXRvLWJlLXNlZW4tYW55d2hlcmU="


class Recorder:
    """Sends requests and keeps every response as text, to be searched afterwards."""

    def __init__(self):
        self.session = requests.Session()
        self.seen: list[str] = []

    def __call__(self, method, url, key=None, header=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if key is not None:
            headers["Authorization"] = header or f"Bearer {key}"
        response = self.session.request(method, url, headers=headers, timeout=15, **kwargs)
        self.seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response


def test_no_key_or_secret_reaches_logs_error_bodies_or_metrics(
    run_service, config_for, publisher, monkeypatch, keys
):
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("EVENTS_RATE_PER_SECOND", "0.5")
    monkeypatch.setenv("EVENTS_RATE_BURST", "4")
    auth = run_service("auth", config_for("auth"))
    inc_config, notif_config = config_for("incubators"), config_for("notifications")
    incubators = run_service("incubators", inc_config)
    notifications = run_service("notifications", notif_config)
    publisher.publish_events([cloud_event("incubator.registered", incubator(INC))])
    mine, other, revoked = (
        keys.issue("incubator", INC),
        keys.issue("incubator", OTHER),
        keys.issue("incubator", INC),
    )
    wait_for(
        lambda: (
            requests.get(
                f"{incubators.base_url}/v1/incubators/{INC}",
                headers={"Authorization": f"Bearer {mine}"},
                timeout=5,
            ).ok
        )
    )
    keys.call("revoke", revoked.removeprefix("tk_").partition(".")[0])
    unit, admin = keys.issue("unit", "220100"), keys.issue("admin")
    rotated = keys.issue("unit", "220200")
    replacement = keys.call("rotate", rotated.removeprefix("tk_").partition(".")[0])["key"]
    mine_id = mine.removeprefix("tk_").partition(".")[0]
    wrong = f"tk_{mine_id}.guessed-secret-guessed-secret-000"
    secret_keys = [mine, other, revoked, unit, admin, rotated, replacement, wrong]

    call = Recorder()
    events_url = f"{incubators.base_url}/v1/events"
    single = {"Content-Type": SINGLE}

    def event(incubator_id=INC):
        data = admission(incubator_id, jilin_uscc())
        return cloud_event("incubator.firm_admitted", data, source=f"/incubators/{incubator_id}")

    first = event()
    statuses = [
        call("POST", events_url, mine, data=json.dumps(first), headers=dict(single)).status_code,
        call("POST", events_url, mine, data=json.dumps(first), headers=dict(single)).status_code,
        call("POST", events_url, wrong, data=json.dumps(event()), headers=dict(single)).status_code,
        call(
            "POST", events_url, revoked, data=json.dumps(event()), headers=dict(single)
        ).status_code,
        call(
            "POST", events_url, mine, header=f"Basic {mine}", data="{}", headers=dict(single)
        ).status_code,
        call(
            "POST", events_url, mine, data=json.dumps(event(OTHER)), headers=dict(single)
        ).status_code,
        call(
            "POST", events_url, mine, data='{"not": "an event"}', headers=dict(single)
        ).status_code,
        call("POST", events_url, mine, data=json.dumps(event()), headers=dict(single)).status_code,
        call("POST", events_url, other, data=json.dumps(event()), headers=dict(single)).status_code,
    ]
    assert statuses[:8] == [202, 202, 401, 401, 401, 403, 422, 429], statuses

    alerts = f"{notifications.base_url}/v1/units/220100/alerts"
    admin_subs = f"{notifications.base_url}/v1/admin/subscriptions"
    subscription = {
        "unit": "220100",
        "channel": "webhook",
        "url": "http://127.0.0.1:9/hook",
        "secret": WEBHOOK_SECRET,
    }
    assert call("GET", alerts, unit).status_code == 200
    assert call("GET", alerts, replacement).status_code == 403  # 220200's key
    assert call("GET", alerts, rotated).status_code == 401
    assert call("GET", alerts, wrong).status_code == 401
    assert call("POST", f"{alerts}/read", unit, json={"all": True}).status_code == 200
    assert call("GET", admin_subs, unit).status_code == 403
    assert call("POST", admin_subs, admin, json=subscription).status_code == 201
    assert call("POST", admin_subs, admin, json={**subscription, "secret": 7}).status_code == 422
    assert call("GET", admin_subs, admin).status_code == 200
    for service in (incubators, notifications, auth):
        assert call("GET", f"{service.base_url}/metrics").status_code == 200

    for service in (incubators, notifications, auth):
        assert service.stop() == 0
    logs = incubators.log() + notifications.log() + auth.log()
    assert logs.count("POST /v1/events") >= 9 and " DEBUG " in logs  # the run was logged
    searched = {"logs": logs, "responses": "\n".join(call.seen)}
    secrets = [part for key in secret_keys for part in (key, key.partition(".")[2])] + [
        WEBHOOK_SECRET
    ]
    leaks = [
        (where, secret[:12])
        for secret in secrets
        for where, text in searched.items()
        if secret in text
    ]
    assert not leaks
    print(
        f"searched {len(logs)} bytes of logs and {len(call.seen)} responses for "
        f"{len(secrets)} secrets: none found"
    )
