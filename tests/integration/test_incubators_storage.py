"""incubators' small derived collections on the real database (progress facts, carriers'
maps of incubation states): kept beside what they derive from, and filled once for a
database written before they existed."""

import pytest
from pymongo import MongoClient

from services.incubators.storage import Incubators
from tests.support.events import jilin_uscc

pytestmark = pytest.mark.integration


def snapshot(code, version, *reports):
    return {
        "uscc": code,
        "version": version,
        "annual_reports": [
            {"year": year, "tech_sme_registered": sme, "high_tech_certified": high_tech}
            for year, sme, high_tech in reports
        ],
    }


def test_facts_follow_the_newest_snapshot_and_an_old_database_is_backfilled(
    servers, mongo_database
):
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        a, b, c = jilin_uscc(), jilin_uscc(), jilin_uscc()
        assert store.put_firm(snapshot(a, 1, (2023, False, True)))
        assert store.put_firm(snapshot(a, 2, (2023, False, True), (2024, True, True)))
        assert not store.put_firm(snapshot(a, 1, (2023, False, True)))  # stale: ignored
        assert store.put_firm(snapshot(b, 1, (2024, True, False)))
        assert store.put_firm(snapshot(c, 1))
        expected = (2, {2023: 1, 2024: 1}, {2024: 2})
        assert store.firm_facts() == expected

        store.db.progress_facts.drop()  # as written before the facts had their collection
        assert store.firm_facts() == (0, {}, {})
        store.ensure_indexes()
        assert store.firm_facts() == expected
        store.db.firms.delete_many({})
        store.ensure_indexes()  # facts exist: no second backfill
        assert store.firm_facts() == expected


def test_a_redelivered_snapshot_mends_facts_a_crash_left_behind(servers, mongo_database):
    """A process killed (or a database gone) between the firm's write and its facts' leaves
    the facts one snapshot behind; the redelivered snapshot brings them up to date."""
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        store = Incubators(client[mongo_database])
        code = jilin_uscc()
        store.put_firm(snapshot(code, 1, (2023, True, False)))
        newer = snapshot(code, 2, (2023, True, False), (2024, True, True))
        store.put_firm(newer)
        store.db.progress_facts.update_one(  # as the crash left them: version 1's
            {"_id": code}, {"$set": {"version": 1, "latest_year": 2023, "high_tech_years": []}}
        )
        assert store.put_firm(newer)
        assert store.firm_facts() == (1, {2024: 1}, {2024: 1})


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
