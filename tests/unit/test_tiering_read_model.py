"""The portal's in-memory lists read tier records as they are stored (snapshot and watch entry
packed as text, unpacked by storage)."""

from services.tiering.read_model import firm_row
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
