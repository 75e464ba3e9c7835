"""Every read API × no key, a wrong unit's key, a wrong carrier's key, the right key and an
admin key, against the real services (in this process), broker and database."""

import pytest
import requests

from services.incubators.service import IncubatorsService
from services.notifications.service import NotificationsService
from services.registry.service import RegistryService
from services.tiering.service import TieringService
from tests.support.events import (
    admission,
    annual_report,
    cloud_event,
    incubator,
    jilin_uscc,
    registration,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

A, B = "JL-INC-0001", "JL-INC-0002"


@pytest.fixture
def world(container_factory, config_for, auth_service, keys, publisher):
    """Firm F (unit 220100, incubated by carrier A) and the same for G (220200, carrier B)."""
    bases = {}
    for cls in (RegistryService, TieringService, IncubatorsService, NotificationsService):
        config = config_for(cls.name)
        container_factory(cls, config).start()
        bases[cls.name] = f"http://{config['WEB_SERVER_ADDRESS']}"
    f, g = jilin_uscc(), jilin_uscc(region="220202")
    publisher.publish_events(
        [
            cloud_event("enterprise.registered", registration(f)),
            cloud_event("enterprise.registered", registration(g, region_code="220202")),
            cloud_event("enterprise.annual_report", annual_report(f, 2024)),
            cloud_event("enterprise.annual_report", annual_report(g, 2024)),
            cloud_event("incubator.registered", incubator(A)),
            cloud_event("incubator.registered", incubator(B, region_code="220202")),
        ]
    )
    admin = keys.headers("admin")
    wait_for(
        lambda: all(
            requests.get(url, headers=admin, timeout=10).ok
            for url in (
                f"{bases['incubators']}/v1/incubators/{A}",
                f"{bases['incubators']}/v1/incubators/{B}",
                f"{bases['tiering']}/v1/enterprises/{f}/tier",
                f"{bases['tiering']}/v1/enterprises/{g}/tier",
            )
        ),
        timeout=60,
        what="carriers registered and firms classified",
    )
    publisher.publish_events(
        [
            cloud_event("incubator.firm_admitted", admission(A, f), source=f"/incubators/{A}"),
            cloud_event("incubator.firm_admitted", admission(B, g), source=f"/incubators/{B}"),
        ]
    )
    wait_for(
        lambda: (
            requests.get(
                f"{bases['incubators']}/v1/incubators/{A}", headers=admin, timeout=10
            ).json()["counts"]["current"]
            == 1
        ),
        what="the admission",
    )
    principals = {
        "unit": ("unit", "220100"),
        "carrier": ("incubator", A),
        "province": ("unit", "220000"),
        "wrong unit": ("unit", "220200"),
        "wrong carrier": ("incubator", B),
        "admin": ("admin", "admin"),
    }
    headers = {name: keys.headers(*owner) for name, owner in principals.items()}
    return bases, f, headers


# (service, path, who may read it besides admin)
def endpoints(f):
    return [
        ("registry", f"/v1/enterprises/{f}", ("unit", "carrier", "province")),
        ("registry", "/v1/enterprises?unit=220100", ("unit", "province")),
        ("tiering", f"/v1/enterprises/{f}/tier", ("unit", "carrier", "province")),
        ("tiering", "/v1/tiers/summary?unit=220100", ("unit", "province")),
        ("tiering", "/v1/watchlist?unit=220100", ("unit", "province")),
        ("tiering", "/v1/tiers/changes", ("province",)),
        ("incubators", f"/v1/incubators/{A}", ("unit", "carrier", "province")),
        ("incubators", "/v1/findings/summary", ("province",)),
        ("notifications", "/v1/units/220100/alerts", ("unit", "province")),
    ]


def test_every_read_endpoint_for_every_kind_of_key(world):
    bases, f, headers = world
    answers = {}
    for service, path, readers in endpoints(f):
        url = f"{bases[service]}{path}"
        assert requests.get(url, timeout=10).status_code == 401, path
        for who in ("unit", "carrier", "province", "wrong unit", "wrong carrier", "admin"):
            status = requests.get(url, headers=headers[who], timeout=10).status_code
            expected = 200 if who == "admin" or who in readers else 403
            answers[(path, who)] = status
            assert status == expected, (path, who, status)
    print(f"{len(answers)} answers, each as expected")


def test_lists_and_counts_answer_within_the_keys_reach(world):
    bases, f, headers = world
    listed = requests.get(
        f"{bases['registry']}/v1/enterprises", headers=headers["wrong unit"], timeout=10
    ).json()
    assert listed["items"] and f not in {i["uscc"] for i in listed["items"]}
    assert {i["unit"] for i in listed["items"]} == {"220200"}
    everything = requests.get(
        f"{bases['registry']}/v1/enterprises", headers=headers["province"], timeout=10
    ).json()
    assert f in {i["uscc"] for i in everything["items"]}
    summary = requests.get(
        f"{bases['tiering']}/v1/tiers/summary", headers=headers["wrong unit"], timeout=10
    ).json()
    assert summary["unit"] == "220200" and summary["total"] == 1
    progress = f"{bases['incubators']}/v1/progress"
    assert set(
        requests.get(progress, headers=headers["wrong unit"], timeout=10).json()["by_unit"]
    ) == {"220200"}
    assert {"220100", "220200"} <= set(
        requests.get(progress, headers=headers["admin"], timeout=10).json()["by_unit"]
    )
    for who in ("carrier", "wrong carrier"):
        assert requests.get(progress, headers=headers[who], timeout=10).status_code == 403
        assert (
            requests.get(
                f"{bases['registry']}/v1/enterprises", headers=headers[who], timeout=10
            ).status_code
            == 403
        )
