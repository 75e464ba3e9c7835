import pytest

from tools.cli import build_parser
from tools.cli.keys import owner_of


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
