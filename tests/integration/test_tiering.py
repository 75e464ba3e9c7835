"""tiering against the real broker and database: snapshots in, tier changes out."""

import pytest
import requests
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from services.registry.service import RegistryService
from services.tiering.service import TieringService
from tests.support.events import annual_report, cloud_event, jilin_uscc, registration
from tests.support.keys import ADMIN_READ
from tests.support.snapshots import firm, revenue_series
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("admin_reads")]

GAZELLE_REVENUES = revenue_series(2e7, 2.4e7, 2.88e7, 3.456e7)


@pytest.fixture
def tiering(container_factory, config_for):
    config = config_for("tiering")
    container = container_factory(TieringService, config)
    container.start()
    return f"http://{config['WEB_SERVER_ADDRESS']}", config


@pytest.fixture
def tier_changes(event_collector):
    return event_collector("tiering", "tier_changed")


def snapshot(code, version, revenues=GAZELLE_REVENUES, **extra):
    return firm(founded="2012-01-01", reports=revenues, **extra) | {
        "uscc": code,
        "version": version,
    }


def send(config, *snapshots):
    dispatch = event_dispatcher(config)
    for snap in snapshots:
        dispatch("registry", "enterprise_updated", snap)


def tier(base, code):
    response = requests.get(f"{base}/v1/enterprises/{code}/tier", headers=ADMIN_READ, timeout=5)
    return response.json() if response.status_code == 200 else None


def test_from_registry_events_to_a_tier_change(
    container_factory, service_config, tiering, publisher, tier_changes
):
    container_factory(RegistryService, service_config).start()
    base, _ = tiering
    code = jilin_uscc()
    events = [cloud_event("enterprise.registered", registration(code, founded_on="2012-01-01"))]
    events += [
        cloud_event("enterprise.annual_report", annual_report(code, year, **fields))
        for year, fields in GAZELLE_REVENUES.items()
    ]
    publisher.publish_events(events)

    view = wait_for(
        lambda: (t := tier(base, code)) and t["tier"] == "gazelle" and t,
        what="the firm classified as a gazelle",
    )
    assert set(view) == {
        "uscc",
        "tier",
        "tier_label",
        "ruleset",
        "evaluated_year",
        "since",
        "checks",
        "history",
    }
    assert (view["tier_label"], view["ruleset"], view["evaluated_year"]) == (
        "瞪羚",
        "jl-2025",
        2023,
    )
    assert view["history"][-1]["to"] == "gazelle"
    changes = []
    wait_for(
        lambda: changes.extend(tier_changes()) or (changes and changes[-1]["to"] == "gazelle"),
        what="the change to gazelle announced",
    )
    # Intermediate snapshots may pass through eaglet; the sequence has no gaps and ends here.
    assert [c["seq"] for c in changes] == list(range(1, len(changes) + 1))
    assert (changes[-1]["to"], changes[-1]["unit"]) == ("gazelle", "220100")
    assert changes[-1]["seq"] == view["history"][-1]["seq"]
    assert any("3-year revenue CAGR" in check["condition"] for check in changes[-1]["checks"])


def test_stale_snapshots_are_ignored_and_unchanged_tiers_announce_nothing(tiering, tier_changes):
    base, config = tiering
    code = jilin_uscc()
    send(config, snapshot(code, 5))
    wait_for(lambda: (t := tier(base, code)) and t["tier"] == "gazelle", what="gazelle")
    send(config, snapshot(code, 3, revenues={}))  # older, and it would say "none"
    send(config, snapshot(code, 6))  # newer, same tier
    wait_for(lambda: tier_version(config, code) == 6, what="version 6 stored")
    assert tier(base, code)["tier"] == "gazelle"
    # A later snapshot that does move the firm, the same way: its change comes, and is the
    # firm's second, so neither snapshot before it recorded or announced one.
    send(config, snapshot(code, 7, credit_blacklisted=True))
    changes = []
    wait_for(
        lambda: changes.extend(tier_changes()) or any(c["to"] == "none" for c in changes),
        what="the later snapshot's change",
    )
    assert [(c["seq"], c["from"], c["to"]) for c in changes] == [
        (1, "none", "gazelle"),
        (2, "gazelle", "none"),
    ]


def tier_version(config, code):
    from pymongo import MongoClient

    with MongoClient(config["MONGODB_URI"]) as client:
        record = client[config["MONGODB_DATABASE"]]["firms"].find_one({"uscc": code})
        return record and record["version"]


def test_a_downgrade_is_announced_with_the_next_sequence_number(tiering, tier_changes):
    base, config = tiering
    code = jilin_uscc()
    send(config, snapshot(code, 1))
    wait_for(lambda: tier(base, code) and tier(base, code)["tier"] == "gazelle")
    send(config, snapshot(code, 2, credit_blacklisted=True))
    view = wait_for(lambda: (t := tier(base, code)) and t["tier"] == "none" and t)
    assert [(h["seq"], h["from"], h["to"]) for h in view["history"]] == [
        (1, "none", "gazelle"),
        (2, "gazelle", "none"),
    ]
    changes = wait_for(lambda: len(c := tier_changes()) >= 2 and c, what="two changes")
    assert [c["seq"] for c in changes] == [1, 2]
    failed = [c["condition"] for c in changes[1]["checks"] if not c["passed"]]
    assert "gate: not on the serious-dishonesty list" in failed


def test_summary_and_watchlist(tiering):
    base, config = tiering
    near = {2020 + i: {"revenue": round(2e7 * 1.18**i, 2), "rd_expense": 1e6} for i in range(4)}
    near[2023] |= {"tech_sme_listed": True, "invention_patents": 1}
    codes = [jilin_uscc(), jilin_uscc(), jilin_uscc()]
    send(
        config,
        snapshot(codes[0], 1),
        snapshot(codes[1], 1, revenues={}),
        firm(founded="2016-01-01", reports=near) | {"uscc": codes[2], "version": 1},
    )
    wait_for(lambda: all(tier(base, c) for c in codes), what="three firms classified")
    summary = requests.get(
        f"{base}/v1/tiers/summary", params={"unit": "220100"}, headers=ADMIN_READ, timeout=5
    ).json()
    assert summary == {
        "unit": "220100",
        "counts": {"unicorn": 0, "gazelle": 1, "eaglet": 1, "none": 1},
        "total": 3,
    }
    other = requests.get(
        f"{base}/v1/tiers/summary", params={"unit": "220200"}, headers=ADMIN_READ, timeout=5
    ).json()
    assert other["total"] == 0
    province = requests.get(
        f"{base}/v1/tiers/summary", params={"unit": "220000"}, headers=ADMIN_READ, timeout=5
    )
    assert province.json() == {**summary, "unit": "220000"}  # the province covers every unit
    bad = requests.get(
        f"{base}/v1/tiers/summary", params={"unit": "999999"}, headers=ADMIN_READ, timeout=5
    )
    assert bad.status_code == 400 and "unit" in bad.json()["errors"]

    watched = requests.get(f"{base}/v1/watchlist", headers=ADMIN_READ, timeout=5).json()["items"]
    assert [w["uscc"] for w in watched] == [codes[2]]
    assert watched[0]["watch"]["next_tier"] == "gazelle"
    assert watched[0]["watch"]["missing"][0]["actual"] == 0.18
    province = requests.get(
        f"{base}/v1/watchlist", params={"unit": "220000"}, headers=ADMIN_READ, timeout=5
    ).json()
    assert province["items"] == watched


STRICT = """
id: jl-strict
version: 1
regions: ["22"]
gates:
  - {name: active, measure: active, op: eq, value: true}
tiers:
  - code: gazelle
    label: 瞪羚
    rank: 2
    all:
      - name: 3-year revenue CAGR ≥ 50%
        measure: growth
        params: {field: revenue, years: 3}
        op: ge
        value: 0.5
"""


def test_simulate_changes_nothing_and_activate_reevaluates_everyone(tiering, tier_changes):
    base, config = tiering
    codes = [jilin_uscc() for _ in range(4)]
    send(config, *(snapshot(code, 1) for code in codes))
    wait_for(lambda: all((t := tier(base, c)) and t["tier"] == "gazelle" for c in codes))
    initial = []
    wait_for(lambda: initial.extend(tier_changes()) or len(initial) == 4, what="4 first changes")
    with ClusterRpcProxy(config, timeout=60) as cluster:
        loaded = cluster.tiering.load_ruleset(STRICT)
        assert loaded == {"id": "jl-strict", "version": 1, "regions": ["22"], "tiers": ["gazelle"]}
        report = cluster.tiering.simulate_ruleset("jl-strict")
        assert report["before"] == {"gazelle": 4} and report["after"] == {"none": 4}
        assert report["moved"] == 4 and {m["uscc"] for m in report["movers"]} == set(codes)
        assert all(tier(base, c)["ruleset"] == "jl-2025" for c in codes)  # nothing changed
        assert tier_changes() == []

        assert cluster.tiering.activate_ruleset("jl-strict") == {
            "ruleset": "jl-strict",
            "firms": 4,
            "changed": 4,
        }
    assert {tier(base, c)["tier"] for c in codes} == {"none"}
    moves = wait_for(lambda: len(c := tier_changes()) == 4 and c, what="four tier changes")
    assert {(m["from"], m["to"], m["ruleset"]) for m in moves} == {("gazelle", "none", "jl-strict")}
    assert {m["seq"] for m in moves} == {2}  # each firm's second change: simulate made none


def test_a_malformed_rule_set_is_refused_with_its_errors(tiering):
    _, config = tiering
    with ClusterRpcProxy(config, timeout=30) as cluster, pytest.raises(Exception) as caught:
        cluster.tiering.load_ruleset(STRICT.replace("measure: growth", "measure: luck"))
    assert "tiers.0.all.0.measure" in str(caught.value)
