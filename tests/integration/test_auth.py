"""The auth service over real RPC and a real database: keys issued, verified, rotated,
revoked, imported from before the service, and stored only as hashes."""

import hashlib

import pytest
import requests
from nameko.exceptions import RemoteError
from pymongo import MongoClient

pytestmark = pytest.mark.integration


def stored(config):
    with MongoClient(config["MONGODB_URI"]) as client:
        return list(client[config["MONGODB_DATABASE"]]["api_keys"].find({}))


def test_a_key_speaks_for_its_owner_until_revoked_and_only_its_hash_is_kept(auth_service, keys):
    issued = keys.call("issue", {"kind": "unit", "subject": "220100"})
    token, key_id = issued["key"], issued["key_id"]
    assert keys.call("verify", token) == {"kind": "unit", "subject": "220100", "key_id": key_id}
    secret = token.partition(".")[2]
    (document,) = stored(auth_service)
    assert document["hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(document)
    assert keys.call("verify", token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert keys.call("verify", f"tk_unknown.{secret}") is None
    assert keys.call("verify", "not a key") is None
    assert keys.call("revoke", key_id) is True
    assert keys.call("verify", token) is None
    assert keys.call("revoke", key_id) is False  # already revoked


def test_rotation_issues_a_new_key_for_the_same_owner_and_revokes_the_old(auth_service, keys):
    old = keys.call("issue", {"kind": "incubator", "subject": "JL-INC-0001"})
    new = keys.call("rotate", old["key_id"])
    assert keys.call("verify", old["key"]) is None
    assert keys.call("verify", new["key"])["subject"] == "JL-INC-0001"
    assert keys.call("rotate", old["key_id"]) is None
    listed = keys.call("list", {"kind": "incubator", "subject": "JL-INC-0001"})
    assert [k["key_id"] for k in listed] == [old["key_id"], new["key_id"]]
    assert all("hash" not in k and "key" not in k for k in listed)


@pytest.mark.parametrize(
    ("owner", "field"),
    [
        ({"kind": "unit", "subject": "999999"}, "subject"),
        ({"kind": "robot", "subject": "x"}, "kind"),
        ({"kind": "incubator", "subject": "a.b"}, "subject"),
        ({"kind": "admin", "subject": "root"}, "subject"),
        ({"kind": "unit", "subject": "220100", "$where": "1"}, "$where"),
    ],
)
def test_an_owner_a_key_cannot_have_is_refused_naming_the_field(auth_service, keys, owner, field):
    with pytest.raises(RemoteError) as refused:
        keys.call("issue", owner)
    assert "InvalidOwner" in str(refused.value) and field in str(refused.value)
    assert stored(auth_service) == []


def test_keys_issued_before_the_service_keep_working_once_imported(auth_service, keys):
    secret = "s3cret-of-an-old-key"
    records = [
        {
            "key_id": "a1b2c3",
            "owner": "JL-INC-0007",
            "hash": hashlib.sha256(secret.encode()).hexdigest(),
        },
        {"key_id": "d4e5f6", "owner": "admin", "hash": "0" * 64, "revoked_at": "2026-01-01"},
    ]
    assert keys.call("import_legacy", records) == {"imported": 2, "known": 0}
    assert keys.call("import_legacy", records) == {"imported": 0, "known": 2}
    assert keys.call("verify", f"tk_a1b2c3.{secret}") == {
        "kind": "incubator",
        "subject": "JL-INC-0007",
        "key_id": "a1b2c3",
    }
    assert keys.call("verify", "tk_d4e5f6.anything") is None


def test_import_legacy_moves_the_keys_the_two_services_kept_and_they_open_the_apis(
    container_factory, config_for, auth_service, keys, monkeypatch, capsys
):
    """`tracker keys import-legacy` after an upgrade: keys stored (as hashes) by incubators and
    notifications before the auth service are asked of them over RPC and kept by auth."""
    from services.incubators.service import IncubatorsService
    from services.notifications.service import NotificationsService
    from tools.cli import main

    secrets = {"incubators": "old-incubator-secret", "notifications": "old-admin-secret"}
    owners = {"incubators": "JL-INC-0009", "notifications": "admin"}
    ids = {"incubators": "0ab1c2d3e4f5", "notifications": "9ab1c2d3e4f5"}
    bases = {}
    for cls in (IncubatorsService, NotificationsService):
        config = config_for(cls.name)
        with MongoClient(config["MONGODB_URI"]) as client:  # as the old `tracker keys` wrote them
            client[config["MONGODB_DATABASE"]]["api_keys"].insert_one(
                {
                    "_id": ids[cls.name],
                    "key_id": ids[cls.name],
                    "owner": owners[cls.name],
                    "hash": hashlib.sha256(secrets[cls.name].encode()).hexdigest(),
                    "created_at": None,
                    "revoked_at": None,
                }
            )
        container_factory(cls, config).start()
        bases[cls.name] = f"http://{config['WEB_SERVER_ADDRESS']}"
    monkeypatch.setenv("AMQP_URI", auth_service["AMQP_URI"])
    assert main(["keys", "import-legacy"]) == 0
    assert '"imported": 2' in capsys.readouterr().out
    admin = {"Authorization": f"Bearer tk_{ids['notifications']}.{secrets['notifications']}"}
    answer = requests.get(f"{bases['notifications']}/v1/admin/subscriptions", headers=admin)
    assert answer.status_code == 200
    carrier = {"Authorization": f"Bearer tk_{ids['incubators']}.{secrets['incubators']}"}
    assert requests.get(f"{bases['incubators']}/v1/progress", headers=carrier).status_code == 403
    assert (
        keys.call("verify", f"tk_{ids['incubators']}.{secrets['incubators']}")["kind"]
        == "incubator"
    )
    assert main(["keys", "import-legacy"]) == 0  # once more: nothing new
    assert '"imported": 0' in capsys.readouterr().out


def test_a_report_reads_with_a_service_key_of_its_own_revoked_when_it_is_done(
    auth_service, keys, monkeypatch
):
    from tools.cli.report import reading_key

    monkeypatch.setenv("AMQP_URI", auth_service["AMQP_URI"])
    monkeypatch.delenv("TRACKER_API_KEY", raising=False)
    with reading_key() as key:
        assert keys.call("verify", key)["kind"] == "service"
    assert keys.call("verify", key) is None
    monkeypatch.setenv("TRACKER_API_KEY", "tk_given.key")
    with reading_key() as given:
        assert given == "tk_given.key"
