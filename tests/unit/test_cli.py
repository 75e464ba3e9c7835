import pytest
from nameko.exceptions import RemoteError

from tools.cli import build_parser
from tools.cli.keys import owner_of
from tools.cli.subscriptions import refusal_said, subscription_of


@pytest.mark.parametrize("unit", ["220100", "changbaishan", "220000"])
def test_a_unit_key_can_be_issued_for_any_unit_the_province_included(unit):
    args = build_parser().parse_args(["keys", "issue", "--unit", unit])
    assert owner_of(args) == {"kind": "unit", "subject": unit}


def test_a_service_credential_names_its_service():
    args = build_parser().parse_args(["keys", "issue", "--service", "portal"])
    assert owner_of(args) == {"kind": "service", "subject": "portal"}


def test_a_unit_that_has_no_inbox_is_refused():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["keys", "issue", "--unit", "999999"])


def subscription_asked(*argv):
    return subscription_of(build_parser().parse_args(["subscriptions", "add", *argv]))


def test_a_webhook_without_a_secret_asks_the_service_to_make_one():
    asked = subscription_asked("--unit", "220100", "--webhook", "https://h.example/t")
    assert asked == {
        "unit": "220100",
        "kinds": [],
        "tiers": [],
        "channel": "webhook",
        "url": "https://h.example/t",
    }
    given = subscription_asked(
        "--unit", "220100", "--webhook", "https://h.example/t", "--secret", "whsec_x"
    )
    assert given["secret"] == "whsec_x"


def test_an_email_subscription_carries_no_secret():
    asked = subscription_asked(
        "--unit", "220100", "--email", "a@b.example", "--secret", "whsec_x", "--kinds", "digest"
    )
    assert asked == {
        "unit": "220100",
        "kinds": ["digest"],
        "tiers": [],
        "channel": "email",
        "address": "a@b.example",
    }


def test_input_the_service_refuses_is_said_with_its_fields(capsys):
    @refusal_said
    def refused(args):
        raise RemoteError("InvalidSubscription", "unit: must be one of 220000, 220100")

    assert refused(None) == 2
    assert capsys.readouterr().out == "invalid subscription: unit: must be one of 220000, 220100\n"


def test_any_other_failure_of_the_service_is_not_taken_for_bad_input():
    @refusal_said
    def broken(args):
        raise RemoteError("ServerSelectionTimeoutError", "database down")

    with pytest.raises(RemoteError):
        broken(None)


@pytest.mark.parametrize(("option", "value"), [("--kind", "laboratory"), ("--grade", "county")])
def test_a_carrier_is_registered_only_with_the_contract_s_words(option, value):
    argv = ["incubators", "register", "--id", "JL-INC-0001", "--name", "n", "--kind", "incubator"]
    argv += [
        "--grade",
        "provincial",
        "--region",
        "220102",
        "--area",
        "1",
        "--recognised-on",
        "2020-01-01",
    ]
    assert build_parser().parse_args(argv).kind == "incubator"
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, option, value])
