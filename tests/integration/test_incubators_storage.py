"""incubators' storage on the real database: the registry facts it keeps of each firm, and
the carriers' maps of incubation states and lists of findings, kept beside what they derive
from and filled once for a database written before they existed."""

import pytest
from pymongo import MongoClient

from services.incubators import handlers, views
from services.incubators.findings import finding
from services.incubators.rules import parse_rules
from services.incubators.schemas import EVENT_SCHEMAS
from services.incubators.storage import BUNDLED_RULES, Incubators
from shared.batches import Batch
from shared.envelope import load_data, parse_envelope
from shared.mongo import pack
from tests.support.events import admission, cloud_event, graduation, jilin_uscc

RULES = parse_rules((BUNDLED_RULES / "jl-incubators-2025.yaml").read_text(encoding="utf-8"))

pytestmark = pytest.mark.integration


def snapshot(code, version, *reports):
    return {
        "uscc": code,
        "version": version,
        "profile": {"founded_on": "2020-01-01", "name": "x"},
        "annual_reports": [
            {
                "year": year,
                "tech_sme_registered": sme,
                "high_tech_certified": high_tech,
                "revenue": 1e6,
                "employees": 9,
            }
            for year, sme, high_tech in reports
        ],
    }


def keep(store, *snapshots):
    batch = Batch(snapshots)
    handlers.enterprise_updated(store, RULES, batch)
    assert batch.failures == {}


def test_facts_of_incubated_firms_follow_the_newest_snapshot(servers, mongo_database):
    """Only the firms it incubates (or did): the registry counts the others' facts."""
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        a, b, c = jilin_uscc(), jilin_uscc(), jilin_uscc()
        life_cycle(store, admitted("A", a), admitted("A", c, "2023-01-01"))
        exit_c = {"incubator_id": "A", "uscc": c, "exited_on": "2024-06-01", "reason": "moved"}
        life_cycle(store, ("incubator.firm_exited", exit_c))
        keep(store, snapshot(a, 1, (2023, False, True)))
        keep(store, snapshot(a, 2, (2023, False, True), (2024, True, True)), snapshot(c, 1))
        keep(store, snapshot(a, 1, (2023, False, True)), snapshot(b, 1, (2024, True, False)))
        kept = store.firm(a)
        assert kept["version"] == 2 and [r["year"] for r in kept["annual_reports"]] == [2023, 2024]
        assert "employees" not in kept["annual_reports"][0]  # only what incubators reads
        assert store.firm(c)["version"] == 1 and store.firm(b) is None


def test_a_firm_stored_before_facts_were_cut_down_is_read_and_replaced(servers, mongo_database):
    """A database written by the version that kept the whole snapshot packed."""
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        code = jilin_uscc()
        life_cycle(store, admitted("A", code))
        old = snapshot(code, 1, (2023, True, False))
        store.db.firms.insert_one({"_id": code, "uscc": code, "version": 1, "snapshot": pack(old)})
        assert store.firm(code)["annual_reports"] == [
            {
                "year": 2023,
                "revenue": 1e6,
                "high_tech_certified": False,
                "tech_sme_registered": True,
            }
        ]
        keep(store, snapshot(code, 2, (2023, True, False), (2024, True, True)))
        assert [r["year"] for r in store.firm(code)["annual_reports"]] == [2023, 2024]


def life_cycle(store, *events):
    """Life-cycle events through incubators' own use case (founding dates unknown)."""
    loaded = [load_data(parse_envelope(cloud_event(t, d)), EVENT_SCHEMAS[t]()) for t, d in events]
    batch = Batch(loaded)
    handlers.apply_life_cycles(store, batch, loaded, lambda usccs: {})
    assert batch.failures == {}


def admitted(incubator_id, code, day="2024-03-01"):
    return "incubator.firm_admitted", admission(incubator_id, code, day)


def graduated(incubator_id, code, day="2025-01-01"):
    return "incubator.firm_graduated", graduation(incubator_id, code, day)


def test_a_carriers_counts_and_incubatees_come_from_its_own_map(servers, mongo_database):
    """A carrier's counts and current incubatees are read from its own map of its
    incubations (not from every firm's document), kept as incubations change, and built once
    for a database written before carriers kept their incubations' dates."""
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        a, b, c = jilin_uscc(), jilin_uscc(), jilin_uscc()
        life_cycle(store, admitted("A", a), admitted("A", b), admitted("B", c))
        life_cycle(store, graduated("A", b))  # a later change

        def seen():
            current = views.open_incubations(store, "A")
            return store.counts("A"), sorted(i["uscc"] for i in current)

        expected = ({"current": 1, "cumulative": 2, "graduated": 1, "exited": 0}, [a])
        assert seen() == expected
        assert store.counts("B")["current"] == 1 and store.counts()["cumulative"] == 3
        assert {i["ended_on"] for i in store.carrier_items("A")} == {None, "2025-01-01"}
        store.db.carrier_incubations.drop()  # as written before carriers had their map
        store.ensure_indexes()
        assert seen() == expected


def test_a_life_cycle_stored_before_facts_were_kept_is_rebuilt_from_its_incubations(
    servers, mongo_database
):
    """A database written by the version that kept only each firm's incubations: an end that
    arrives now is paired with the admission rebuilt from them."""
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        code = jilin_uscc()
        old = {
            "incubation_id": f"A:{code}:2024-03-01",
            "incubator_id": "A",
            "uscc": code,
            "admitted_on": "2024-03-01",
            "track": None,
            "limit_months": 48,
            "state": "open",
            "ended_on": None,
            "admitted_by": "/incubators/A|old-admission",
            "ended_by": None,
        }
        store.db.firm_incubations.insert_one({"_id": code, "items": [old]})
        life_cycle(store, graduated("A", code))
        [incubation] = store.incubations_of(code)
    assert (incubation["incubation_id"], incubation["state"]) == (old["incubation_id"], "graduated")


def test_a_carriers_findings_are_read_through_its_own_list(servers, mongo_database):
    """A carrier's findings (its page, its open count, those waiting for its unit) are read by
    `_id` through its own list of them, kept as findings are stored and built once for a
    database written before carriers listed their findings; ids with dots and `$` too."""
    ids = {"A": ["overdue:A:1", "late_admission:A.2:$x"], "B": ["overdue:B:1"]}
    found = [
        finding(i, i.split(":")[0], carrier, jilin_uscc(), "why")
        for carrier in ids
        for i in ids[carrier]
    ]
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        store.put_carrier({"incubator_id": "B", "unit": "220200"}, "k")
        handlers.sync(store, RULES, set(), found)
        handlers.sync(store, RULES, {"overdue:A:1"}, [found[1], found[2]])  # A:1 withdrawn

        def seen():
            return (
                {c: sorted(f["finding_id"] for f in store.findings_of(c)) for c in "ABC"},
                store.open_findings_of(["A", "B", "C"]),
            )

        expected = ({"A": sorted(ids["A"]), "B": ids["B"], "C": []}, {"A": 1, "B": 1})
        assert seen() == expected
        store.db.carrier_findings.drop()  # as written before carriers listed their findings
        store.ensure_indexes()
        assert seen() == expected
        waiting = store.findings_waiting_for("A", "220100")
        assert {(f["finding_id"], f["unit"]) for f in waiting} == {(i, "220100") for i in ids["A"]}
