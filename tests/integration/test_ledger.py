"""The ledger of processed events: a claim left by a worker that died expires after its lease."""

from datetime import timedelta

import pytest
from pymongo import MongoClient

from shared.envelope import parse_envelope
from shared.ingress.ledger import Claim, ProcessedEvents
from tests.support.events import cloud_event, jilin_uscc, registration

pytestmark = pytest.mark.integration


def test_a_claim_is_taken_over_only_after_its_lease(servers, mongo_database):
    event = parse_envelope(cloud_event("enterprise.registered", registration(jilin_uscc())))
    with MongoClient(servers.mongodb_uri, tz_aware=True) as client:
        db = client[mongo_database]
        minute, none = ProcessedEvents(db, timedelta(seconds=60)), ProcessedEvents(db, timedelta())
        outcomes = [minute.claim(event), minute.claim(event), none.claim(event)]
        none.complete(event)
        outcomes.append(minute.claim(event))
    assert outcomes == [Claim.NEW, Claim.BUSY, Claim.NEW, Claim.DONE]
