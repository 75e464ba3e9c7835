"""The ledger of processed events on the real database: what is recorded is a duplicate
afterwards, a pair recorded by another process first is told apart, and a claim left by the
version that claimed before handling counts as not processed."""

import pytest
from pymongo import MongoClient

from shared.envelope import parse_envelope
from shared.ingress.ledger import ProcessedEvents, entry_id
from tests.support.events import cloud_event, jilin_uscc, registration

pytestmark = pytest.mark.integration


def event():
    return parse_envelope(cloud_event("enterprise.registered", registration(jilin_uscc())))


def test_recorded_events_are_done_and_a_second_recorder_is_told(servers, mongo_database):
    first, second, third = event(), event(), event()
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        ours, other = (
            ProcessedEvents(client[mongo_database]),
            ProcessedEvents(client[mongo_database]),
        )
        assert ours.done([first, second]) == set()
        assert ours.record([first]) == set()
        assert other.record([first, second]) == {entry_id(first)}  # ours came first
        assert ours.done([first, second, third]) == {entry_id(first), entry_id(second)}


def test_a_legacy_claim_is_not_done_until_recorded(servers, mongo_database):
    claimed = event()
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        ledger = ProcessedEvents(client[mongo_database])
        ledger.collection.insert_one({"_id": entry_id(claimed), "state": "claimed"})
        assert ledger.done([claimed]) == set()
        assert ledger.record([claimed]) == set()  # ours: the claim was never completed
        assert ledger.done([claimed]) == {entry_id(claimed)}
