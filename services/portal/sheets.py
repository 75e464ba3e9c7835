"""The carriers' spreadsheet: the template (.xlsx with one sheet per kind of event, Chinese
column titles with the field name beside them, lists for enumerations), reading an upload
(.xlsx or .csv of the same columns) into rows, and rows into CloudEvents with deterministic ids.
Pure functions, no I/O: validation itself is incubators' (services/incubators/api.py).

An .xlsx is read with openpyxl in read-only mode with `data_only`, so a formula is never
evaluated (its cached value, or nothing, is read), and a workbook with macros is refused.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from shared.domain.carriers import BASES, TRACKS
from shared.envelope import cloud_event_document

MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam", ".xls", ".xlsb")
README_SHEET = "说明 README"
TEMPLATE_ROWS = 1000  # rows the enumeration lists cover


class UploadRefused(ValueError):
    """The file as a whole cannot be taken (size, type, macros, not the template)."""


@dataclass(frozen=True)
class Column:
    key: str  # the event's data field
    title: str  # Chinese title; the header is "title / key"
    kind: str = "text"  # text, date, int, number
    required: bool = True
    choices: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        return f"{self.title} / {self.key}"


@dataclass(frozen=True)
class Sheet:
    name: str  # the worksheet's title
    event_type: str
    columns: tuple[Column, ...]


USCC = Column("uscc", "统一社会信用代码")
SHEETS = (
    Sheet(
        "入孵 admissions",
        "incubator.firm_admitted",
        (
            USCC,
            Column("admitted_on", "入孵日期 (YYYY-MM-DD)", "date"),
            Column(
                "track",
                "赛道 (60个月: 生物医药/集成电路设计/现代农业)",
                required=False,
                choices=TRACKS,
            ),
        ),
    ),
    Sheet(
        "毕业 graduations",
        "incubator.firm_graduated",
        (
            USCC,
            Column("graduated_on", "毕业日期 (YYYY-MM-DD)", "date"),
            Column("basis", "毕业依据", choices=BASES),
        ),
    ),
    Sheet(
        "退出 exits",
        "incubator.firm_exited",
        (USCC, Column("exited_on", "退出日期 (YYYY-MM-DD)", "date"), Column("reason", "退出原因")),
    ),
    Sheet(
        "年度报告 annual report",
        "incubator.annual_report",
        (
            Column("year", "年度", "int"),
            Column("area_m2", "场地面积 (㎡)", "number"),
            Column("incubatee_area_m2", "在孵企业使用面积 (㎡)", "number"),
            Column("mentors", "创业导师人数", "int"),
            Column("staff", "管理服务人员数", "int"),
            Column("fund", "孵化基金 (元)", "number"),
            Column("incubatees_with_financing", "获得投融资的在孵企业数", "int"),
            Column("incubatees_with_ip", "拥有有效知识产权的在孵企业数", "int"),
            Column("income", "总收入 (元)", "number"),
        ),
    ),
)
BY_NAME = {sheet.name: sheet for sheet in SHEETS}


@dataclass
class Rows:
    """One sheet's data rows: (row number as the spreadsheet shows it, values by field)."""

    sheet: Sheet
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


# the template -------------------------------------------------------------------------------
def template() -> bytes:
    """The .xlsx template: a sheet per event kind, header titles in Chinese with the field
    name beside them, lists for the enumerations, dates and USCCs kept as text."""
    book = Workbook()
    readme = book.worksheets[0]  # the one sheet of a new workbook (its active one)
    readme.title = README_SHEET
    for line in (
        "填写各工作表后上传；每行一个事件。 Fill in the sheets and upload; one event per row.",
        "同一行再次上传视为重复。 A row uploaded again is a duplicate, not a new event.",
        "任何一行有误则整个文件不提交。 If any row is invalid, nothing in the file is submitted.",
        "日期格式 YYYY-MM-DD；金额单位为元。 Dates as YYYY-MM-DD; money in yuan.",
    ):
        readme.append([line])
    for sheet in SHEETS:
        worksheet = book.create_sheet(sheet.name)
        worksheet.append([column.header for column in sheet.columns])
        for index, column in enumerate(sheet.columns):
            letter = chr(ord("A") + index)
            worksheet[f"{letter}1"].font = Font(bold=True)
            worksheet.column_dimensions[letter].width = max(18, len(column.header) + 6)
            if column.kind in ("text", "date"):
                for row in range(2, TEMPLATE_ROWS + 2):
                    worksheet[f"{letter}{row}"].number_format = "@"
            if column.choices:
                listed = DataValidation(
                    type="list",
                    formula1=f'"{",".join(column.choices)}"',
                    allow_blank=not column.required,
                    showErrorMessage=True,
                    error=f"one of {', '.join(column.choices)}",
                )
                listed.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
                worksheet.add_data_validation(listed)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# reading an upload --------------------------------------------------------------------------
def column_key(header: Any) -> str:
    """The field a header names: the text after its last " / " (or the whole header)."""
    text = "" if header is None else str(header).strip()
    return text.rsplit("/", 1)[-1].strip()


def cell(column: Column, value: Any) -> Any:
    """A cell as the event's data wants it (None for an empty cell): dates as ISO text, whole
    numbers as integers, numbers in CSV text parsed; anything else left for the schema to name."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and column.kind != "number":
        value = int(value)
    if isinstance(value, str):
        value = value.strip()
        if column.kind in ("int", "number"):
            try:
                number = float(value)
                return int(number) if column.kind == "int" and number.is_integer() else number
            except ValueError:
                return value
    if isinstance(value, int | float) and column.kind in ("text", "date"):
        return str(value)
    return value


def rows_of(sheet: Sheet, header: list[Any], lines: list[tuple[int, list[Any]]]) -> Rows:
    keys = [column_key(h) for h in header]
    known = {c.key: c for c in sheet.columns}
    unknown = [k for k in keys if k and k not in known]
    missing = [c.header for c in sheet.columns if c.required and c.key not in keys]
    if unknown or missing:
        raise UploadRefused(
            f"工作表「{sheet.name}」的列与模板不符 / sheet {sheet.name!r} does not have the "
            f"template's columns: "
            + "; ".join(
                [f"unknown column {k!r}" for k in unknown] + [f"missing {m!r}" for m in missing]
            )
        )
    found = Rows(sheet)
    for number, values in lines:
        data = {}
        for key, value in zip(keys, values, strict=False):
            converted = cell(known[key], value) if key else None
            if converted is not None:
                data[key] = converted
        if data:
            found.rows.append((number, data))
    return found


def read_xlsx(data: bytes) -> list[Rows]:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        raise UploadRefused("不是有效的 .xlsx 文件 / not a valid .xlsx file") from None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UploadRefused("含宏的工作簿不被接受 / workbooks with macros are refused")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise UploadRefused(f"无法读取 / cannot read the workbook: {type(exc).__name__}") from None
    found = []
    try:
        for worksheet in book.worksheets:
            if worksheet.title == README_SHEET:
                continue
            sheet = BY_NAME.get(worksheet.title)
            if sheet is None:
                raise UploadRefused(
                    f"工作表「{worksheet.title}」不是模板中的工作表 / sheet {worksheet.title!r} "
                    f"is not one of the template's: {', '.join(BY_NAME)}"
                )
            lines = worksheet.iter_rows(values_only=True)
            header = list(next(lines, []))
            numbered = [(number, list(values)) for number, values in enumerate(lines, start=2)]
            found.append(rows_of(sheet, header, numbered))
    finally:
        book.close()
    return found


def read_csv(data: bytes) -> list[Rows]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRefused("CSV 须为 UTF-8 编码 / a CSV file must be UTF-8") from None
    lines = list(csv.reader(io.StringIO(text)))
    header = lines[0] if lines else []
    keys = {column_key(h) for h in header if column_key(h)}
    for sheet in SHEETS:
        required = {c.key for c in sheet.columns if c.required}
        if required <= keys <= {c.key for c in sheet.columns}:
            return [rows_of(sheet, header, list(enumerate(lines[1:], start=2)))]
    raise UploadRefused(
        "CSV 的列不是任何一个模板工作表的列 / the CSV's columns are not those of any sheet "
        "of the template"
    )


def read_upload(filename: str, data: bytes, max_bytes: int, max_rows: int) -> list[Rows]:
    """The upload's rows by sheet, or UploadRefused saying what is wrong with the file."""
    name = (filename or "").lower()
    if len(data) > max_bytes:
        raise UploadRefused(
            f"文件超过 {max_bytes // 1024} KB / the file is over {max_bytes:,} bytes"
        )
    if name.endswith(MACRO_EXTENSIONS):
        raise UploadRefused(
            "含宏或旧格式的工作簿不被接受 / macro-enabled or old-format workbooks are refused"
        )
    if name.endswith(".xlsx"):
        found = read_xlsx(data)
    elif name.endswith(".csv"):
        found = read_csv(data)
    else:
        raise UploadRefused("请上传 .xlsx 或 .csv 文件 / upload an .xlsx or a .csv file")
    total = sum(len(s.rows) for s in found)
    if total == 0:
        raise UploadRefused("文件中没有数据行 / the file has no data rows")
    if total > max_rows:
        raise UploadRefused(f"最多 {max_rows} 行 / at most {max_rows:,} rows per upload")
    return found


# rows into events ---------------------------------------------------------------------------
def event_id(incubator_id: str, sheet: Sheet, data: dict[str, Any]) -> str:
    """The same row of the same carrier's sheet always makes the same id (a duplicate)."""
    canonical = json.dumps([incubator_id, sheet.name, data], sort_keys=True, ensure_ascii=False)
    return "upload-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Located:
    sheet: Sheet
    row: int
    document: dict[str, Any]


def to_events(incubator_id: str, found: list[Rows], now: datetime) -> list[Located]:
    """CloudEvents in the order the sheets come in the template (admissions first, so a
    graduation in the same upload follows its admission)."""
    order = {sheet.name: index for index, sheet in enumerate(SHEETS)}
    events = []
    for rows in sorted(found, key=lambda r: order[r.sheet.name]):
        for number, values in rows.rows:
            events.append(
                Located(
                    rows.sheet,
                    number,
                    cloud_event_document(
                        rows.sheet.event_type,
                        f"/incubators/{incubator_id}",
                        {"incubator_id": incubator_id, **values},
                        event_id(incubator_id, rows.sheet, values),
                        now,
                    ),
                )
            )
    return events


def located_errors(events: list[Located], errors: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors keyed by event index (and field path) as (sheet, row, column, message)."""
    found = []
    for index, fields in sorted(errors.items(), key=lambda item: int(item[0])):
        event = events[int(index)]
        titles = {c.key: c.header for c in event.sheet.columns}
        items = fields.items() if isinstance(fields, dict) else [("", fields)]
        for path, messages in items:
            key = path.removeprefix("data.")
            for message in messages if isinstance(messages, list) else [messages]:
                found.append(
                    {
                        "sheet": event.sheet.name,
                        "row": event.row,
                        "column": titles.get(key, key or "—"),
                        "message": str(message),
                    }
                )
    return found
