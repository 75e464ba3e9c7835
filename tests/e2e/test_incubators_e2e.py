"""incubators as a real process, administered with the `tracker` command."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.events import admission, cloud_event, jilin_uscc
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
ID = "JL-INC-0099"


def test_keys_from_the_command_line_open_the_api(run_service, config_for, auth_process):
    config = {**config_for("incubators"), "AUTH_KEY_CACHE_SECONDS": 2}
    service = run_service("incubators", config)
    env = {
        **os.environ,
        "AMQP_URI": config["AMQP_URI"],
        "MONGODB_URI": config["MONGODB_URI"],
        "INCUBATORS_MONGODB_DATABASE": config["MONGODB_DATABASE"],
    }

    def tracker(*args):
        done = subprocess.run(
            [str(Path(sys.executable).with_name("tracker")), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    tracker(
        "incubators",
        "register",
        "--id",
        ID,
        "--name",
        "延边创业孵化基地",
        "--kind",
        "incubation_base",
        "--grade",
        "provincial",
        "--region",
        "222401",
        "--area",
        "8000",
        "--recognised-on",
        "2019-09-09",
    )
    carrier_url = f"{service.base_url}/v1/incubators/{ID}"
    unit = {"Authorization": f"Bearer {tracker('keys', 'issue', '--unit', '222400')}"}
    wait_for(lambda: requests.get(carrier_url, headers=unit, timeout=5).ok, what="registered")
    assert (
        requests.get(carrier_url, headers=unit, timeout=5).json()["incubator"]["unit"] == "222400"
    )

    key = tracker("keys", "issue", "--incubator", ID)
    listed = json.loads(tracker("keys", "list", "--incubator", ID))
    assert len(listed) == 1 and key.split(".")[1] not in json.dumps(listed)

    code = jilin_uscc()
    event = cloud_event("incubator.firm_admitted", admission(ID, code), source=f"/incubators/{ID}")
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/cloudevents+json"}
    response = requests.post(
        f"{service.base_url}/v1/events", data=json.dumps(event), headers=headers, timeout=10
    )
    assert response.status_code == 202, response.text
    assert requests.get(carrier_url, headers=headers, timeout=5).ok  # its own carrier
    wait_for(
        lambda: requests.get(carrier_url, headers=unit, timeout=5).json()["counts"]["current"] == 1
    )

    tracker("keys", "revoke", listed[0]["key_id"])
    wait_for(  # the services cache a valid key's answer for AUTH_KEY_CACHE_SECONDS
        lambda: (
            requests.post(
                f"{service.base_url}/v1/events", data=json.dumps(event), headers=headers, timeout=10
            ).status_code
            == 401
        ),
        timeout=10,
        what="the revoked key refused",
    )
    assert key not in service.log()  # keys never reach the logs
