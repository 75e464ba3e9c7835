"""Who reads what (shared/scope.py): the rules every read API and every portal page apply."""

import pytest

from shared import scope
from shared.http import Problem

UNIT = {"kind": "unit", "subject": "220100", "key_id": "k1"}
PROVINCE = {"kind": "unit", "subject": "220000", "key_id": "k2"}
CARRIER = {"kind": "incubator", "subject": "JL-INC-0001", "key_id": "k3"}
ADMIN = {"kind": "admin", "subject": "admin", "key_id": "k4"}
SERVICE = {"kind": "service", "subject": "report", "key_id": "k5"}


def refused(check, *args):
    with pytest.raises(Problem) as raised:
        check(*args)
    assert raised.value.status == 403
    return raised.value.detail


def incubates(incubator_id, uscc):
    return (incubator_id, uscc) == ("JL-INC-0001", "F-INCUBATED")


def test_a_unit_key_reads_its_unit_and_the_province_key_every_unit():
    scope.require_unit(UNIT, "220100")
    assert "220200" in refused(scope.require_unit, UNIT, "220200")
    for principal in (PROVINCE, ADMIN, SERVICE):
        scope.require_unit(principal, "220200")
    assert "220100" in refused(scope.require_unit, CARRIER, "220100")


def test_lists_are_limited_to_the_keys_reach():
    assert scope.unit_filter(UNIT, None) == "220100"
    assert scope.unit_filter(UNIT, "220100") == "220100"
    refused(scope.unit_filter, UNIT, "220200")
    refused(scope.unit_filter, UNIT, "220000")
    assert scope.unit_filter(PROVINCE, None) is None
    assert scope.unit_filter(ADMIN, "220000") == "220000"
    refused(scope.unit_filter, CARRIER, None)


def test_a_firm_is_read_by_its_units_key_or_the_carrier_incubating_it_now():
    scope.require_firm(UNIT, "220100", "F-ANY", incubates)
    refused(scope.require_firm, UNIT, "220200", "F-ANY", incubates)
    refused(scope.require_firm, UNIT, None, "F-UNREGISTERED", incubates)
    scope.require_firm(CARRIER, "220200", "F-INCUBATED", incubates)
    refused(scope.require_firm, CARRIER, "220100", "F-OTHER", incubates)
    scope.require_firm(ADMIN, None, "F-UNREGISTERED", incubates)


def test_a_carrier_is_read_by_itself_its_unit_and_keys_that_read_everything():
    scope.require_carrier(CARRIER, "JL-INC-0001", "220100")
    refused(scope.require_carrier, CARRIER, "JL-INC-0002", "220100")
    scope.require_carrier(UNIT, "JL-INC-0002", "220100")
    refused(scope.require_carrier, UNIT, "JL-INC-0002", "220200")
    scope.require_carrier(PROVINCE, "JL-INC-0002", "220200")


def test_only_a_units_own_key_or_an_admin_marks_its_alerts_and_admin_administers():
    scope.require_own_unit(UNIT, "220100")
    scope.require_own_unit(ADMIN, "220100")
    refused(scope.require_own_unit, PROVINCE, "220100")
    refused(scope.require_own_unit, SERVICE, "220100")
    scope.require_admin(ADMIN)
    for principal in (UNIT, PROVINCE, SERVICE, CARRIER):
        refused(scope.require_admin, principal)
    refused(scope.require_everything, UNIT)
    scope.require_everything(PROVINCE)
