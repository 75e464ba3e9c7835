"""Group-committed database calls (shared/coalesce.py) against the real database: each
concurrent caller gets its own outcome, whatever else shared its command."""

import random

from eventlet.greenpool import GreenPool
from pymongo import InsertOne, MongoClient
from pymongo.errors import DuplicateKeyError

from shared.coalesce import Lookups, Versioned, Writes


def test_concurrent_inserts_fail_one_by_one_on_a_taken_key(servers, mongo_database):
    with MongoClient(servers.mongodb_uri) as client:
        collection = client[mongo_database]["items"]
        collection.insert_many([{"_id": "k3"}, {"_id": "k7"}])
        writes = Writes(collection)

        def insert(n):
            try:
                writes(InsertOne({"_id": f"k{n}", "n": n}))
                return "stored"
            except DuplicateKeyError:
                return "taken"

        outcomes = list(GreenPool(20).imap(insert, range(20)))
        assert [n for n, outcome in enumerate(outcomes) if outcome == "taken"] == [3, 7]
        assert collection.count_documents({"n": {"$exists": True}}) == 18


def test_concurrent_lookups_each_get_their_document(servers, mongo_database):
    with MongoClient(servers.mongodb_uri) as client:
        collection = client[mongo_database]["items"]
        collection.insert_many([{"_id": f"k{n}", "n": n} for n in range(0, 30, 2)])
        lookups = Lookups(collection, {"n": True})
        found = list(GreenPool(30).imap(lookups, [f"k{n}" for n in range(30)]))
        assert found == [{"_id": f"k{n}", "n": n} if n % 2 == 0 else None for n in range(30)]


def test_of_concurrent_versions_the_newest_is_kept_and_older_ones_are_told(servers, mongo_database):
    with MongoClient(servers.mongodb_uri) as client:
        collection = client[mongo_database]["items"]
        versioned = Versioned(collection)
        puts = [(f"firm{k}", v) for k in range(5) for v in range(1, 21)]
        random.Random(3).shuffle(puts)
        outcomes = list(
            GreenPool(20).imap(lambda p: versioned.put(p[0], {"version": p[1], "v": p[1]}), puts)
        )
        stored = {d["_id"]: d for d in collection.find()}
        assert {key: (d["version"], d["v"]) for key, d in stored.items()} == {
            f"firm{k}": (20, 20) for k in range(5)
        }
        for (key, version), kept in zip(puts, outcomes, strict=True):
            if version == 20:
                assert kept, f"{key} version 20 was not stored"
