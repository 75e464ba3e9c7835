"""What each page shows: the calls it makes (through a Backend), the reach it checks
(shared/scope.py, as the APIs do), and the context its template gets. Lists come a page at a
time with keyset cursors; downloads walk the same pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from services.portal import charts, tables
from services.portal.repository import Backend
from shared import scope
from shared.domain import uscc
from shared.domain.dates import add_months
from shared.domain.units import PROVINCE, UNITS, WITH_PROVINCE
from shared.http import Problem
from shared.pagination import decode_cursor, encode_cursor

PAGE = 20
DOWNLOAD_PAGE = 500
MAX_DOWNLOAD_ROWS = 30_000
TIERS = ("unicorn", "gazelle", "eaglet", "none")
YEARS = 4
Context = dict[str, Any]
# a page of table rows and the key to continue after (None on the last page)
Page = tuple[list[tables.Row], str | None]


def unit_name(unit: str) -> str:
    return "吉林省 Jilin province" if unit == PROVINCE else UNITS.get(unit, unit)


def bad_request(field: str, message: str) -> Problem:
    return Problem(400, "Bad Request", f"{field}: {message}", {field: [message]})


def known_unit(unit: str) -> str | None:
    """The unit filter of the services' reads (None: every unit), or 404."""
    if unit not in WITH_PROVINCE:
        raise Problem(404, "Not Found", f"没有单位 {unit} / no unit {unit}")
    return None if unit == PROVINCE else unit


def filters(args: Any) -> dict[str, str]:
    industry = (args.get("industry") or "").strip()
    tier = args.get("tier") or ""
    if len(industry) > 100:
        raise bad_request("industry", "at most 100 characters")
    if tier and tier not in TIERS:
        raise bad_request("tier", f"one of {', '.join(TIERS)}")
    return {"industry": industry, "tier": tier}


def cursor(args: Any, name: str) -> str | None:
    return decode_cursor(args[name]) if args.get(name) else None


# firms, changes, watchlist, carriers: one page each --------------------------------------
def firms(
    calls: Backend, unit: str | None, wanted: dict[str, str], after: str | None, size: int
) -> Page:
    """A page of firm rows and the key to continue after (None on the last page)."""
    found = calls.call(
        "tiering",
        "firm_rows",
        unit,
        wanted["tier"] or None,
        wanted["industry"] or None,
        after,
        size,
    )
    rows = [tables.firm_row(f, f) for f in found]
    return rows, (found[-1]["uscc"] if len(found) == size else None)


def changes(calls: Backend, unit: str | None, after: str | None, size: int) -> Page:
    position = after.split("|", 1) if after else None
    found = calls.call("tiering", "changes_page", unit, position, size)
    last = found[-1] if len(found) == size else None
    return [tables.change_row(c) for c in found], (f"{last['at']}|{last['id']}" if last else None)


def watchlist(calls: Backend, unit: str | None, after: str | None, size: int) -> Page:
    found = calls.call("tiering", "watch_page", unit, after, size)
    return [tables.watch_row(w) for w in found], (found[-1]["uscc"] if len(found) == size else None)


def carriers(calls: Backend, unit: str | None, after: str | None, size: int) -> Page:
    found = calls.call("incubators", "carriers_of", unit, after, size)
    last = found[-1]["incubator_id"] if len(found) == size else None
    return [tables.carrier_row(c) for c in found], last


Reader = Callable[[Backend, str | None, str | None, int], Page]
# the tables read alike (firms, filtered too, is read by read_table itself)
READERS: dict[str, Reader] = {"changes": changes, "watchlist": watchlist, "carriers": carriers}


def read_table(
    calls: Backend,
    name: str,
    unit: str | None,
    wanted: dict[str, str],
    after: str | None,
    size: int,
) -> Page:
    if name == "firms":
        return firms(calls, unit, wanted, after, size)
    return READERS[name](calls, unit, after, size)


# pages ----------------------------------------------------------------------------------------
def unit_overview(calls: Backend, principal: Any, unit: str, args: Any) -> Context:
    scope.require_unit(principal, unit)
    selected, wanted = known_unit(unit), filters(args)
    this_year = date.today().year
    years = list(range(this_year - YEARS, this_year))
    asked = calls.gather(
        counts=("tiering", "counts", selected),
        province=("tiering", "counts", None),
        yearly=("tiering", "counts_by_year", selected, years),
        progress=("incubators", "progress"),
    )
    sections = []
    for name in ("firms", "changes", "watchlist", "carriers"):
        rows, last = read_table(calls, name, selected, wanted, cursor(args, f"{name}_after"), PAGE)
        sections.append(
            {
                "table": tables.TABLES[name],
                "rows": rows,
                "next": encode_cursor(last) if last else None,
            }
        )
    labels = [(t, tables.tier_label(t)) for t in TIERS]
    counts = asked["counts"]["counts"]
    return {
        "unit": unit,
        "unit_name": unit_name(unit),
        "filters": wanted,
        "tiers": labels,
        "today_chart": charts.bars(
            "今日各梯次企业数 Firms per tier today",
            [(t, label, counts.get(t, 0)) for t, label in labels],
        ),
        "yearly_chart": charts.grouped(
            "各年末梯次企业数 Firms per tier at each year's end",
            [str(y) for y in years],
            labels,
            asked["yearly"],
        ),
        "total": asked["counts"]["total"],
        "progress": progress_rows(asked["progress"], unit, asked["counts"], asked["province"]),
        "sections": sections,
        "args": {k: v for k, v in args.items()},
    }


def progress_rows(progress: dict, unit: str, counts: dict, province: dict) -> list[dict]:
    """The province against the plan and, for a unit, the unit against its share: the plan's
    target times the unit's share of the province's firms."""
    share = counts["total"] / province["total"] if province["total"] and unit != PROVINCE else 1.0
    mine = progress["by_unit"].get(unit, {}) if unit != PROVINCE else None
    rows = []
    for key, title, own in (
        ("carriers", "孵化载体 Carriers", None),
        ("incubated_firms", "在孵企业(累计) Incubated firms", (mine or {}).get("cumulative")),
        ("tech_smes_registered", "科技型中小企业 Technology SMEs registered", None),
    ):
        figure = progress[key]
        rows.append(
            {
                "title": title,
                "province": figure["actual"],
                "target": figure["target"],
                "ratio": figure.get("ratio"),
                "unit": own,
                "unit_target": round(figure["target"] * share) if mine is not None else None,
            }
        )
    return rows


def firm_page(calls: Backend, principal: Any, raw: str) -> Context:
    try:
        code = uscc.validate(raw)
    except uscc.InvalidUscc as exc:
        raise bad_request("uscc", str(exc)) from None
    asked = calls.gather(
        firm=("registry", "firm", code),
        tier=("tiering", "tier_of", code),
        incubations=("incubators", "incubations_of", code),
    )
    firm, tier = asked["firm"], asked["tier"]
    if firm is None and tier is None:
        raise Problem(404, "Not Found", f"没有企业 {code} / no firm {code}")
    unit = (firm or {}).get("unit") or (tier or {}).get("unit")
    scope.require_firm(principal, unit, code, calls.incubates)
    checks_by_tier: dict[str, list] = {}
    for check in (tier or {}).get("checks", []):
        checks_by_tier.setdefault(check["tier"], []).append(check)
    return {
        "uscc": code,
        "firm": firm,
        "unit": unit,
        "unit_name": unit_name(unit) if unit else "",
        "tier": tier,
        "tier_text": tables.tier_label((tier or {}).get("tier")),
        "checks_by_tier": checks_by_tier,
        "tier_label": tables.tier_label,
        "incubations": asked["incubations"],
    }


def inbox(calls: Backend, principal: Any, unit: str, args: Any) -> Context:
    scope.require_unit(principal, unit)
    known_unit(unit)
    asked = calls.gather(
        unread=("notifications", "alerts", unit, True, args.get("unread_after") or None, PAGE),
        every=("notifications", "alerts", unit, False, args.get("all_after") or None, PAGE),
    )
    return {
        "unit": unit,
        "unit_name": unit_name(unit),
        "unread": asked["unread"],
        "every": asked["every"],
        "may_mark": principal["kind"] == "admin" or principal["subject"] == unit,
        "args": dict(args.items()),
    }


def months_left(incubation: dict[str, Any], today: date) -> int:
    """Whole months from today until the incubation's limit (negative: beyond it)."""
    due = add_months(date.fromisoformat(incubation["admitted_on"]), incubation["limit_months"])
    months = (due.year - today.year) * 12 + due.month - today.month
    return months - 1 if due.day < today.day else months


def carrier_page(calls: Backend, principal: Any, incubator_id: str, args: Any) -> Context:
    page = calls.call("incubators", "carrier_page", incubator_id, cursor(args, "past_after"), PAGE)
    if page is None:
        raise Problem(404, "Not Found", f"没有载体 {incubator_id} / no carrier {incubator_id}")
    carrier = page["incubator"]
    scope.require_carrier(principal, incubator_id, carrier.get("unit"))  # before anything shows
    usccs = [i["uscc"] for i in page["current_incubatees"] + page["past"]]
    names = calls.call("registry", "firm_summaries", usccs) if usccs else {}
    today = date.today()
    current = [
        {**i, "name": names.get(i["uscc"], {}).get("name"), "months_left": months_left(i, today)}
        for i in sorted(page["current_incubatees"], key=lambda i: i["admitted_on"])
    ]
    past = [{**i, "name": names.get(i["uscc"], {}).get("name")} for i in page["past"]]
    national = carrier.get("grade", "").startswith("national")
    reports = [
        {
            **report,
            "shortfalls": [
                f["detail"]
                for f in page["findings"]
                if f["kind"] == "national_threshold"
                and f["finding_id"].startswith(f"national:{incubator_id}:{report['year']}:")
            ],
        }
        for report in page["reports"]
    ]
    return {
        "carrier": carrier,
        "unit_name": unit_name(carrier.get("unit") or ""),
        "counts": page["counts"],
        "current": current,
        "past": past,
        "past_next": encode_cursor(page["past_next"]) if page["past_next"] else None,
        "findings": page["findings"],
        "reports": reports,
        "national": national,
        "own": principal["kind"] == "incubator",
    }


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {"csv": (tables.as_csv, "text/csv"), "xlsx": (tables.as_xlsx, XLSX)}


def download_rows(
    calls: Backend, principal: Any, unit: str, name: str, args: Any
) -> tuple[tables.Table, Iterator[dict[str, Any]]]:
    """One of a unit's tables, once its reach, unit, filters and name are checked, and its
    rows (up to MAX_DOWNLOAD_ROWS), read DOWNLOAD_PAGE at a time as they are taken."""
    scope.require_unit(principal, unit)
    selected, wanted = known_unit(unit), filters(args)
    if name not in tables.TABLES:
        raise Problem(404, "Not Found", f"no table {name}")

    def rows() -> Iterator[dict[str, Any]]:
        after, sent = None, 0
        while sent < MAX_DOWNLOAD_ROWS:
            found, after = read_table(calls, name, selected, wanted, after, DOWNLOAD_PAGE)
            yield from found
            sent += len(found)
            if after is None:
                return

    return tables.TABLES[name], rows()


def download(
    calls: Backend, principal: Any, unit: str, name: str, fmt: str, args: Any
) -> tuple[bytes, str, str]:
    """(body, file name, media type) of a unit's table as CSV or .xlsx, every row read
    before the answer starts (the worker's RPC proxies end with it)."""
    table, rows = download_rows(calls, principal, unit, name, args)
    if fmt not in DOWNLOADS:
        raise bad_request("format", "csv or xlsx")
    write, media_type = DOWNLOADS[fmt]
    return write(table, list(rows)), f"{unit}-{name}.{fmt}", media_type
