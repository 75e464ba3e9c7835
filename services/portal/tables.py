"""The portal's tables: their columns (Chinese with English beside), the rows pages show, and
the same rows as CSV and .xlsx downloads. Pure functions, no I/O."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

TIER_LABELS = {"unicorn": "独角兽 unicorn", "gazelle": "瞪羚 gazelle", "eaglet": "雏鹰 eaglet"}
TIER_LABELS["none"] = "无 none"
Row = dict[str, Any]


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (key, title)
    link: str | None = None  # the key whose cell links to the firm or carrier page


FIRMS = Table(
    "firms",
    "企业 Firms",
    (
        ("uscc", "统一社会信用代码 USCC"),
        ("name", "名称 Name"),
        ("industry", "行业 Industry"),
        ("tier", "梯次 Tier"),
        ("founded_on", "成立日期 Founded"),
        ("latest_year", "最新年报 Latest report"),
    ),
    link="uscc",
)
CHANGES = Table(
    "changes",
    "近期梯次变化 Recent tier changes",
    (
        ("at", "时间 When"),
        ("uscc", "统一社会信用代码 USCC"),
        ("name", "名称 Name"),
        ("move", "变化 Change"),
        ("deciding", "决定条件 Deciding conditions"),
    ),
    link="uscc",
)
WATCHLIST = Table(
    "watchlist",
    "观察名单 Watchlist (close to the next tier)",
    (
        ("uscc", "统一社会信用代码 USCC"),
        ("name", "名称 Name"),
        ("tier", "当前梯次 Tier"),
        ("next_tier", "下一梯次 Next tier"),
        ("missing", "差距 What it misses"),
    ),
    link="uscc",
)
CARRIERS = Table(
    "carriers",
    "孵化载体 Carriers",
    (
        ("incubator_id", "编号 Id"),
        ("name", "名称 Name"),
        ("grade", "级别 Grade"),
        ("current", "在孵 Current"),
        ("cumulative", "累计 Cumulative"),
        ("graduated", "毕业 Graduated"),
        ("open_findings", "未解决问题 Open findings"),
    ),
    link="incubator_id",
)
TABLES = {table.name: table for table in (FIRMS, CHANGES, WATCHLIST, CARRIERS)}


def tier_label(code: str | None) -> str:
    return TIER_LABELS.get(code or "none", code or "")


def condition_text(check: dict[str, Any]) -> str:
    actual = check.get("actual")
    return f"{check['condition']}: {actual if actual is not None else '—'} ({check['required']})"


def firm_row(summary: dict[str, Any], tier: dict[str, Any] | None) -> Row:
    return {**summary, "tier": tier_label((tier or {}).get("tier"))}


def change_row(change: dict[str, Any]) -> Row:
    return {
        "at": str(change["at"])[:19].replace("T", " "),
        "uscc": change["uscc"],
        "name": change.get("name"),
        "move": f"{tier_label(change['from'])} → {tier_label(change['to'])}",
        "deciding": "; ".join(condition_text(c) for c in change.get("checks", [])),
    }


def watch_row(item: dict[str, Any]) -> Row:
    watch = item.get("watch") or {}
    return {
        "uscc": item["uscc"],
        "name": item.get("name"),
        "tier": tier_label(item.get("tier")),
        "next_tier": tier_label(watch.get("next_tier")),
        "missing": "; ".join(condition_text(c) for c in watch.get("missing", [])),
    }


def carrier_row(carrier: dict[str, Any]) -> Row:
    return {
        **{k: carrier.get(k) for k in ("incubator_id", "name", "grade", "open_findings")},
        **{k: carrier["counts"].get(k, 0) for k in ("current", "cumulative", "graduated")},
    }


def as_csv(table: Table, rows: Iterable[Row]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to read Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in table.columns])
    for row in rows:
        writer.writerow([safe_cell(row.get(key)) for key, _ in table.columns])
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(table: Table, rows: Iterable[Row]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.name)
    sheet.append([title for _, title in table.columns])
    for row in rows:
        sheet.append([safe_cell(row.get(key)) for key, _ in table.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def safe_cell(value: Any) -> Any:
    """A value as a cell that a spreadsheet shows and never runs: text starting like a formula
    (=, +, -, @) gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
