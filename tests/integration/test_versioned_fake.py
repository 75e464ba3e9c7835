"""The in-memory Versioned of the unit tests' fakes (tests/support/fakes/versioned.py) keeps
shared.versioned.Versioned's contract: the same checks on both, the real one on the
MongoDB-protocol server."""

from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from shared.versioned import ATTEMPTS, WRITE_ID, Versioned
from tests.support.fakes.versioned import InMemoryVersioned

pytestmark = pytest.mark.integration


@pytest.fixture(params=["in memory", "mongodb"])
def versioned(request) -> Iterator[Versioned]:
    if request.param == "in memory":
        yield InMemoryVersioned({"bulky": False})
        return
    servers = request.getfixturevalue("servers")
    database = request.getfixturevalue("mongo_database")
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        yield Versioned(client[database]["documents"], {"bulky": False})


def stored(versioned, key):
    return versioned.read([key])[key]


def test_an_insert_lands_once_with_a_write_token(versioned):
    assert versioned.write([({"_id": "a", "n": 1}, None)]) == set()
    assert versioned.write([({"_id": "a", "n": 2}, None)]) == {"a"}
    assert stored(versioned, "a")["n"] == 1 and stored(versioned, "a")[WRITE_ID]


def test_an_update_lands_only_on_the_document_it_was_computed_from(versioned):
    versioned.write([({"_id": "a", "n": 1}, None)])
    read = stored(versioned, "a")
    assert versioned.write([({"_id": "a", "n": 2}, read)]) == set()
    assert versioned.write([({"_id": "a", "n": 3}, read)]) == {"a"}  # replaced since it was read
    assert stored(versioned, "a")["n"] == 2


def test_an_update_sets_fields_and_a_read_leaves_out_the_projection(versioned):
    versioned.write([({"_id": "a", "n": 1, "kept": True, "bulky": "x" * 100}, None)])
    versioned.write([({"_id": "a", "n": 2}, stored(versioned, "a"))])
    assert {k: v for k, v in stored(versioned, "a").items() if k != WRITE_ID} == {
        "_id": "a",
        "n": 2,
        "kept": True,
    }
    assert versioned.read(["a", "absent"]).keys() == {"a"}


def test_update_computes_a_lost_key_again_from_what_was_stored_and_gives_up_after_attempts(
    versioned,
):
    versioned.write([({"_id": "a", "n": 0}, None), ({"_id": "b", "n": 0}, None)])
    read, reads = versioned.read, []

    def read_then_another_writes(keys):
        found = read(keys)
        reads.append(sorted(keys))
        another_writer = {"_id": "a", "n": 100 * len(reads)}
        versioned.write([(another_writer, read(["a"])["a"])])
        return found

    versioned.read = read_then_another_writes
    seen = []

    def add_one(key, document):
        seen.append((key, document["n"]))
        return {"_id": key, "n": document["n"] + 1}

    assert versioned.update(["a", "b"], add_one) == {"a"}
    assert reads == [["a", "b"]] + [["a"]] * (ATTEMPTS - 1)
    assert seen == [("a", 0), ("b", 0)] + [("a", 100 * n) for n in range(1, ATTEMPTS)]
    versioned.read = read
    assert (stored(versioned, "a")["n"], stored(versioned, "b")["n"]) == (100 * ATTEMPTS, 1)
