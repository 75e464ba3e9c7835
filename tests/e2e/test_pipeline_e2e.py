"""registry and tiering as real processes: enterprise events in, tiers out, rule set commands."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.events import annual_report, cloud_event, jilin_uscc, registration
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def tracker(amqp_uri, *args):
    command = [str(Path(sys.executable).with_name("tracker")), *args]
    done = subprocess.run(
        command,
        env={**os.environ, "AMQP_URI": amqp_uri},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_firms_are_tiered_end_to_end(
    run_service, config_for, publisher, rabbit_config, auth_process
):
    admin = auth_process.headers("admin")
    run_service("registry")
    tiering = run_service("tiering", config_for("tiering"))
    gazelle, eaglet = jilin_uscc(), jilin_uscc()
    events = [
        cloud_event("enterprise.registered", registration(c, founded_on="2016-03-01"))
        for c in (gazelle, eaglet)
    ]
    revenues = {2020: 2e7, 2021: 2.4e7, 2022: 2.88e7, 2023: 3.456e7}
    events += [
        cloud_event(
            "enterprise.annual_report",
            annual_report(
                gazelle, year, revenue=revenue, rd_expense=revenue * 0.03, high_tech_certified=False
            ),
        )
        for year, revenue in revenues.items()
    ]
    events += [cloud_event("enterprise.annual_report", annual_report(eaglet, 2023))]
    publisher.publish_events(events)

    def tier_of(code):
        response = requests.get(
            f"{tiering.base_url}/v1/enterprises/{code}/tier", headers=admin, timeout=5
        )
        return response.json()["tier"] if response.ok else None

    wait_for(
        lambda: tier_of(gazelle) == "gazelle" and tier_of(eaglet) == "eaglet",
        timeout=30,
        what="both firms tiered",
    )
    summary = requests.get(f"{tiering.base_url}/v1/tiers/summary", headers=admin, timeout=5).json()
    assert summary["counts"]["gazelle"] == 1 and summary["counts"]["eaglet"] == 1

    listed = tracker(rabbit_config["AMQP_URI"], "rulesets", "list")
    assert listed["active"] == {"22": "jl-2025"}
    assert {r["id"] for r in listed["loaded"]} == {"jl-2025", "sd-wh-2025"}
    simulated = tracker(rabbit_config["AMQP_URI"], "rulesets", "simulate", "jl-2025")
    assert simulated["moved"] == 0 and simulated["after"] == simulated["before"]
    assert tiering.stop() == 0
