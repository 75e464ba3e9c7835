from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.registry import records
from services.registry.storage import page_filter
from shared.envelope import CloudEvent

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def event(event_id="e", time=T0, **data):
    return CloudEvent(
        id=event_id, source="/t", type="enterprise.status_changed", time=time, data=data
    )


def test_order_keys_rank_effective_date_then_time_then_id():
    early, late = date(2024, 1, 1), date(2024, 6, 1)
    assert records.order_key(event(time=T0), late) > records.order_key(
        event(time=T0 + timedelta(days=9)), early
    )
    assert records.order_key(event(time=T0 + timedelta(seconds=1))) > records.order_key(
        event(time=T0)
    )
    assert records.order_key(event("b")) > records.order_key(event("a"))


def test_order_keys_compare_instants_not_offsets():
    beijing_15h = datetime(2025, 3, 1, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 07:00 UTC
    assert records.order_key(event(time=beijing_15h)) < records.order_key(event(time=T0))


def document(**parts):
    return {"uscc": "X", "version": 3, **parts}


def test_an_unregistered_record_has_default_status_and_its_reports():
    snap = records.snapshot(
        document(reports={"2023": {"year": 2023, "revenue": 1.0, "order_key": "k"}})
    )
    assert snap["registered"] is False and snap["unit"] is None
    assert snap["status"] == records.STATUS_DEFAULTS
    assert snap["annual_reports"] == [{"year": 2023, "revenue": 1.0}]


def test_reports_before_the_founding_year_are_set_aside_with_a_reason():
    profile = {
        "founded_on": "2021-04-01",
        "unit": "220100",
        "order_key": "k",
        "name": "n",
        "region_code": "220102",
        "zone": None,
        "industry": "i",
        "stated": {},
        "stated_key": "k",
    }
    snap = records.snapshot(
        document(
            profile=profile,
            reports={
                "2020": {"year": 2020, "order_key": "k"},
                "2021": {"year": 2021, "order_key": "k"},
            },
        )
    )
    assert [r["year"] for r in snap["annual_reports"]] == [2021]
    assert snap["conflicts"] == [
        {
            "part": "annual_report 2020",
            "reason": "report year 2020 is before the founding year 2021",
        }
    ]


def test_status_is_the_newest_statement_of_each_field():
    profile = {
        "founded_on": "2019-01-01",
        "unit": "220100",
        "name": "n",
        "region_code": "220102",
        "zone": None,
        "industry": "i",
        "order_key": "k",
        "stated": {"listing": "listed", "entity_kind": "independent"},
        "stated_key": "2019-01-01|t|a",
    }
    snap = records.snapshot(
        document(
            profile=profile,
            status_changes={
                "x": {
                    "order_key": "2024-01-01|t|b",
                    "changes": {"listing": "neeq", "active": False},
                },
                "y": {"order_key": "2018-01-01|t|c", "changes": {"entity_kind": "branch"}},
            },
        )
    )
    assert snap["status"] == {
        "listing": "neeq",
        "active": False,
        "credit_blacklisted": False,
        "entity_kind": "independent",
    }


def test_funding_is_in_date_order():
    snap = records.snapshot(
        document(
            funding={
                "B": {"round_id": "B", "date": "2024-05-01", "order_key": "k"},
                "A": {"round_id": "A", "date": "2023-01-01", "order_key": "k"},
            }
        )
    )
    assert [r["round_id"] for r in snap["funding_rounds"]] == ["A", "B"]
    assert snap["version"] == 3


def test_list_filters_follow_the_query_fields_given():
    assert page_filter({"limit": 50}) == {}
    assert page_filter({"unit": "220100", "industry": "I65", "registered": False}) == {
        "unit": "220100",
        "industry": "I65",
        "registered": False,
    }
