"""The portal's pages and forms against services answering in memory: every reach check is made
before anything is read or changed, and refusals say what they should."""

from __future__ import annotations

import io
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from services.portal import handlers, views
from shared.http import Problem
from tests.support.events import jilin_uscc
from tests.support.fakes.portal import FakeBackend

FIRM = "91220101000000006F"
UNIT = {"kind": "unit", "subject": "220100", "key_id": "k1"}
OTHER_UNIT = {"kind": "unit", "subject": "220200", "key_id": "k2"}
PROVINCE = {"kind": "unit", "subject": "220000", "key_id": "k3"}
CARRIER = {"kind": "incubator", "subject": "JL-INC-0001", "key_id": "k4"}
OTHER_CARRIER = {"kind": "incubator", "subject": "JL-INC-0002", "key_id": "k5"}
ADMIN = {"kind": "admin", "subject": "admin", "key_id": "k6"}
SERVICE = {"kind": "service", "subject": "report", "key_id": "k7"}


def refused(status: int, read: Any, *args: Any) -> Problem:
    with pytest.raises(Problem) as problem:
        read(*args)
    assert problem.value.status == status
    return problem.value


def backend() -> FakeBackend:
    """A province with one firm in 220100, incubated by JL-INC-0001 (unit 220100)."""
    carrier = {"incubator_id": "JL-INC-0001", "unit": "220100", "grade": "provincial"}
    return FakeBackend(
        {
            ("registry", "firm"): lambda code: (
                {"uscc": code, "unit": "220100"} if code == FIRM else None
            ),
            ("tiering", "tier_of"): lambda code: None,
            ("incubators", "incubations_of"): lambda code: [],
            ("incubators", "incubates"): lambda carrier_id, code: carrier_id == "JL-INC-0001",
            ("incubators", "carrier_page"): lambda carrier_id, after, size: (
                {
                    "incubator": carrier,
                    "current_incubatees": [],
                    "past": [],
                    "past_next": None,
                    "counts": {},
                    "findings": [],
                    "reports": [],
                }
                if carrier_id == "JL-INC-0001"
                else None
            ),
            ("notifications", "alerts"): lambda *args: {"items": [], "next_cursor": None},
            ("notifications", "mark_alerts_read"): lambda unit, ids: 2,
            ("tiering", "firm_rows"): lambda *args: [],
            ("auth", "verify"): {"tk_unit": UNIT, "tk_service": SERVICE}.get,
        }
    )


# signing in -----------------------------------------------------------------------------------


def test_sign_in_takes_unit_carrier_and_admin_keys_only():
    calls = backend()
    assert handlers.sign_in(calls, "  tk_unit \n") == UNIT
    for key, status in (("tk_service", 403), ("tk_wrong", 401), ("", 401), (None, 401)):
        with pytest.raises(handlers.SignInRefused) as refusal:
            handlers.sign_in(calls, key)
        assert refusal.value.status == status
    assert calls.called("auth", "verify") == [("tk_unit",), ("tk_service",), ("tk_wrong",)]


def test_an_overlong_key_is_cut_before_it_is_sent():
    calls = backend()
    with pytest.raises(handlers.SignInRefused):
        handlers.sign_in(calls, "x" * 5000)
    assert calls.called("auth", "verify") == [("x" * handlers.MAX_KEY_LENGTH,)]


# pages ----------------------------------------------------------------------------------------


def test_a_unit_s_pages_are_refused_to_other_units_and_carriers_before_any_read():
    calls = backend()
    for principal in (OTHER_UNIT, CARRIER):
        refused(403, views.unit_overview, calls, principal, "220100", MultiDict())
        refused(403, views.inbox, calls, principal, "220100", MultiDict())
        refused(403, views.download, calls, principal, "220100", "firms", "csv", MultiDict())
    assert calls.calls == []


def test_a_code_that_names_no_unit_is_404_and_a_bad_filter_400():
    calls = backend()
    refused(404, views.inbox, calls, ADMIN, "2201０0", MultiDict())
    refused(400, views.unit_overview, calls, UNIT, "220100", MultiDict({"tier": "dragon"}))
    refused(404, views.download, calls, UNIT, "220100", "secrets", "csv", MultiDict())
    refused(400, views.download, calls, UNIT, "220100", "firms", "pdf", MultiDict())
    assert calls.calls == []


def test_a_download_reads_every_page_of_the_table():
    calls = backend()
    rows = iter([[{"uscc": str(n)} for n in range(views.DOWNLOAD_PAGE)], [{"uscc": "last"}]])
    calls.answers[("tiering", "firm_rows")] = lambda *args: next(rows)
    body, name, media = views.download(calls, UNIT, "220100", "firms", "csv", MultiDict())
    assert name == "220100-firms.csv" and media == "text/csv" and b"last" in body
    assert len(calls.called("tiering", "firm_rows")) == 2


def test_a_firm_is_shown_to_its_unit_and_the_carrier_incubating_it_only():
    calls = backend()
    for principal in (UNIT, PROVINCE, ADMIN, CARRIER):
        assert views.firm_page(calls, principal, FIRM)["unit"] == "220100"
    for principal in (OTHER_UNIT, OTHER_CARRIER):
        refused(403, views.firm_page, calls, principal, FIRM)
    refused(400, views.firm_page, calls, ADMIN, "not-a-uscc")
    refused(404, views.firm_page, calls, ADMIN, jilin_uscc())


def test_a_carrier_page_is_its_own_key_s_and_its_unit_s():
    calls = backend()
    for principal in (CARRIER, UNIT, ADMIN):
        assert views.carrier_page(calls, principal, "JL-INC-0001", MultiDict())["carrier"]
    for principal in (OTHER_CARRIER, OTHER_UNIT):
        refused(403, views.carrier_page, calls, principal, "JL-INC-0001", MultiDict())
    refused(404, views.carrier_page, calls, ADMIN, "JL-INC-0009", MultiDict())


def test_the_inbox_offers_marking_read_to_the_unit_and_admins_only():
    calls = backend()
    assert views.inbox(calls, UNIT, "220100", MultiDict())["may_mark"] is True
    assert views.inbox(calls, PROVINCE, "220100", MultiDict())["may_mark"] is False


# forms ----------------------------------------------------------------------------------------


def test_alerts_are_marked_read_by_the_unit_s_own_key_or_an_admin_s():
    calls = backend()
    for principal in (PROVINCE, OTHER_UNIT, CARRIER):
        refused(403, handlers.mark_read, calls, principal, "220100", MultiDict({"all": "1"}))
    assert calls.calls == []
    assert handlers.mark_read(calls, UNIT, "220100", MultiDict({"all": "1"})) == 2
    ids = MultiDict([("id", str(n)) for n in range(150)])
    handlers.mark_read(calls, ADMIN, "220100", ids)
    assert calls.called("notifications", "mark_alerts_read")[-1][1] == [str(n) for n in range(100)]


def test_only_the_carrier_s_own_key_uploads():
    calls = backend()
    for principal in (UNIT, ADMIN, OTHER_CARRIER):
        refused(403, handlers.upload, calls, principal, "JL-INC-0001", None, {})
    assert calls.calls == []


def test_a_file_that_is_not_the_template_is_refused_before_anything_is_sent():
    calls, limits = backend(), {"max_bytes": 1000, "max_rows": 10}
    macro = FileStorage(stream=io.BytesIO(b"x"), filename="rows.xlsm")
    assert "refused" in handlers.upload(calls, CARRIER, "JL-INC-0001", macro, limits)
    assert "refused" in handlers.upload(calls, CARRIER, "JL-INC-0001", None, limits)
    assert calls.calls == []


def test_an_upload_incubators_refuses_lists_the_errors_by_row():
    calls, limits = backend(), {"max_bytes": 100_000, "max_rows": 10}
    csv = b"uscc,admitted_on,track\n91220101000000006F,2024-03-01,\n"
    answer = {"status": 422, "detail": "1 of 1 events are invalid", "errors": {"0": {"x": ["y"]}}}
    calls.answers[("incubators", "submit_events")] = lambda carrier_id, documents: answer
    upload = FileStorage(stream=io.BytesIO(csv), filename="admissions.csv")
    result = handlers.upload(calls, CARRIER, "JL-INC-0001", upload, limits)
    assert result["refused"] == answer["detail"] and result["errors"]
    (documents,) = [args[1] for args in calls.called("incubators", "submit_events")]
    assert [d["data"]["uscc"] for d in documents] == [FIRM]
