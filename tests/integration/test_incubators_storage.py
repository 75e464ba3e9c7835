"""incubators' small progress-facts collection on the real database: kept beside every
snapshot, and filled once from the snapshots of a database written before it existed."""

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
