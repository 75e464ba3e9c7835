"""auth's use cases against the in-memory key storage: every guard they have."""

from __future__ import annotations

import pytest

from services.auth import handlers
from services.auth.principals import digest
from tests.support.fakes.auth import InMemoryKeys

UNIT = {"kind": "unit", "subject": "220100"}


def test_an_issued_key_speaks_for_its_owner_and_only_its_hash_is_stored():
    keys = InMemoryKeys()
    issued = handlers.issue(keys, UNIT)
    principal = handlers.verify(keys, issued["key"])
    assert principal == {"kind": "unit", "subject": "220100", "key_id": issued["key_id"]}
    stored = keys.records[issued["key_id"]]
    secret = issued["key"].partition(".")[2]
    assert stored["hash"] == digest(secret) and secret not in str(stored)


@pytest.mark.parametrize(
    "owner, field",
    [
        ({"kind": "unit", "subject": "2201０0"}, "subject"),
        ({"kind": "admin", "subject": "root"}, "subject"),
        ({"kind": "incubator", "subject": "JL INC"}, "subject"),
        ({"kind": "robot", "subject": "x"}, "kind"),
    ],
)
def test_a_key_is_issued_only_to_an_owner_a_key_can_have(owner, field):
    keys = InMemoryKeys()
    with pytest.raises(handlers.InvalidOwner) as refused:
        handlers.issue(keys, owner)
    assert field in str(refused.value) and keys.records == {}


@pytest.mark.parametrize(
    "token",
    [None, 42, "", "tk_", "tk_abc", "tk_.secret", "Bearer tk_a.b", "tk_unknown.secret"],
)
def test_malformed_unknown_and_non_text_keys_verify_to_nobody(token):
    keys = InMemoryKeys()
    handlers.issue(keys, UNIT)
    assert handlers.verify(keys, token) is None


def test_a_wrong_secret_for_a_known_key_id_verifies_to_nobody():
    keys = InMemoryKeys()
    issued = handlers.issue(keys, UNIT)
    assert handlers.verify(keys, f"tk_{issued['key_id']}.not-the-secret") is None


def test_a_revoked_key_verifies_to_nobody_and_opens_no_session():
    keys = InMemoryKeys()
    issued = handlers.issue(keys, UNIT)
    assert handlers.principal_of(keys, issued["key_id"]) is not None
    assert handlers.revoke(keys, issued["key_id"]) is True
    assert handlers.verify(keys, issued["key"]) is None
    assert handlers.principal_of(keys, issued["key_id"]) is None
    assert handlers.revoke(keys, issued["key_id"]) is False  # once
    assert handlers.principal_of(keys, 42) is None


def test_rotating_revokes_the_old_key_and_gives_the_owner_a_new_one():
    keys = InMemoryKeys()
    old = handlers.issue(keys, UNIT)
    new = handlers.rotate(keys, old["key_id"])
    assert new is not None and new["key_id"] != old["key_id"]
    assert handlers.verify(keys, old["key"]) is None
    assert handlers.verify(keys, new["key"])["subject"] == "220100"
    assert handlers.rotate(keys, old["key_id"]) is None  # a revoked key is not rotated
    assert handlers.rotate(keys, "unknown") is None


def test_listing_by_owner_shows_no_hashes():
    keys = InMemoryKeys()
    mine = handlers.issue(keys, UNIT)
    handlers.issue(keys, {"kind": "admin"})
    listed = handlers.listing(keys, UNIT)
    assert [k["key_id"] for k in listed] == [mine["key_id"]] and "hash" not in listed[0]
    assert len(handlers.listing(keys, None)) == 2
    with pytest.raises(handlers.InvalidOwner):
        handlers.listing(keys, {"kind": "unit", "subject": "999999"})


def test_legacy_keys_are_imported_once_with_their_owner_and_revocation():
    keys = InMemoryKeys()
    secret = "old-secret"
    records = [
        {"key_id": "aa01", "owner": "JL-INC-0009", "hash": digest(secret)},
        {"key_id": "aa02", "owner": "admin", "hash": digest("x"), "revoked_at": "2026-01-01"},
        {"key_id": "aa03", "owner": "220100", "hash": digest("y")},
    ]
    assert handlers.import_legacy(keys, records) == {"imported": 3, "known": 0}
    assert handlers.import_legacy(keys, records) == {"imported": 0, "known": 3}
    assert handlers.verify(keys, f"tk_aa01.{secret}")["kind"] == "incubator"
    assert handlers.verify(keys, "tk_aa02.x") is None
    assert handlers.verify(keys, "tk_aa03.y")["kind"] == "unit"
