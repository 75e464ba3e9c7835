"""The portal's in-memory lists read tier records as they are stored (snapshot and watch entry
packed as text, unpacked by storage)."""

import time

import eventlet

from services.tiering import read_model
from services.tiering.read_model import Lists, PortalPages, firm_row
from services.tiering.storage import from_document, to_document

WATCH = {"next_tier": "gazelle", "missing": [{"measure": "revenue_growth", "passed": False}]}


def test_a_firm_row_unpacks_the_stored_watch_entry_and_snapshot():
    record = {
        "uscc": "91220101MA0000001X",
        "name": "长春光电",
        "unit": "220100",
        "tier": "eaglet",
        "watch": WATCH,
        "snapshot": {
            "profile": {"industry": "photonics", "founded_on": "2020-01-01"},
            "annual_reports": [{"year": 2023}, {"year": 2024}],
        },
    }
    row = firm_row(from_document(to_document(record)))
    assert row["watch"] == WATCH
    assert (row["industry"], row["founded_on"], row["latest_year"]) == (
        "photonics",
        "2020-01-01",
        2024,
    )


def test_a_firm_off_the_watch_list_has_no_entry():
    document = to_document({"uscc": "91220101MA0000001X", "tier": "none", "watch": None})
    assert firm_row(from_document(document))["watch"] is None


def test_the_first_build_is_made_once_however_many_ask_meanwhile(monkeypatch):
    """Reading a province's firms takes seconds: callers that come while the first build runs
    wait for it instead of each reading everything again."""
    builds = []

    def slow_build(tiers):
        builds.append(tiers)
        eventlet.sleep(0.05)
        return Lists(built_at=time.monotonic())

    monkeypatch.setattr(read_model, "build", slow_build)
    pages = PortalPages(tiers="the tiers", max_age=60)  # type: ignore[arg-type]
    callers = [eventlet.spawn(pages.current) for _ in range(5)]
    results = [caller.wait() for caller in callers]
    assert builds == ["the tiers"]
    assert all(result is results[0] for result in results)
