"""incubators' storage on the real database: the registry facts it keeps of each firm, and
the carriers' maps of incubation states, kept beside what they derive from and filled once for
a database written before they existed."""

import pytest
from pymongo import MongoClient

from services.incubators import handling
from services.incubators.storage import Incubators
from shared.batches import Batch
from shared.mongo import pack
from tests.support.events import jilin_uscc

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
    handling.enterprise_updated(store, batch)
    assert batch.failures == {}


def test_facts_of_incubated_firms_follow_the_newest_snapshot(servers, mongo_database):
    """Only the firms it incubates (or did): the registry counts the others' facts."""
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        a, b, c = jilin_uscc(), jilin_uscc(), jilin_uscc()
        store.put_incubation(incubation("i.a", "A", a, "open"))
        store.put_incubation(incubation("i.c", "A", c, "exited") | {"ended_on": "2024-06-01"})
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
        store.put_incubation(incubation("i.1", "A", code, "open"))
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


def incubation(incubation_id, incubator_id, uscc, state, admitted_on="2024-03-01"):
    return {
        "incubation_id": incubation_id,
        "incubator_id": incubator_id,
        "uscc": uscc,
        "state": state,
        "admitted_on": admitted_on,
    }


def test_a_carriers_counts_and_incubatees_come_from_its_own_map(servers, mongo_database):
    """A carrier's counts and current incubatees are read from its own map of incubation
    states (not from every firm's document), kept as incubations change, and built once
    for a database written before carriers had it."""
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        a, b, c = jilin_uscc(), jilin_uscc(), jilin_uscc()
        store.put_incubation(incubation("i.1", "A", a, "open"))
        store.put_incubation(incubation("i.2", "A", b, "open"))
        store.put_incubation(incubation("i.3", "B", c, "open"))
        store.put_incubation(incubation("i.2", "A", b, "graduated"))  # a later change

        def seen():
            return store.counts("A"), sorted(i["uscc"] for i in store.open_incubations("A"))

        expected = ({"current": 1, "cumulative": 2, "graduated": 1, "exited": 0}, [a])
        assert seen() == expected
        assert store.counts("B")["current"] == 1 and store.counts()["cumulative"] == 3
        store.db.carrier_incubations.drop()  # as written before carriers had their map
        store.ensure_indexes()
        assert seen() == expected
