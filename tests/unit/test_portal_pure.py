"""The portal's pure parts: sessions, charts, tables and downloads, the spreadsheet template
and uploads (no servers)."""

import csv
import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from services.incubators.api import validate
from services.incubators.binding import Posted
from services.portal import charts, session, sheets, tables, views
from shared.http import Problem
from tests.support.events import jilin_uscc

SECRET = b"s" * 32


def test_a_session_is_signed_expires_and_is_bound_to_its_secret():
    token = session.new_session(SECRET, "key1", 60)
    payload = session.unsign(SECRET, token)
    assert payload["kid"] == "key1" and len(payload["csrf"]) > 20
    assert session.unsign(b"x" * 32, token) is None
    body, mac = token.split(".")
    assert session.unsign(SECRET, f"{body}x.{mac}") is None
    assert session.unsign(SECRET, token, now=payload["exp"] + 1) is None
    assert session.unsign(SECRET, "garbage") is None
    assert session.csrf_matches(payload, payload["csrf"])
    assert not session.csrf_matches(payload, "other") and not session.csrf_matches(payload, None)
    cookie, form_token = session.new_signin_token(SECRET)
    assert session.signin_token_matches(SECRET, cookie, form_token)
    assert not session.signin_token_matches(SECRET, cookie, form_token + "x")
    assert session.cookie_attributes(60, False)["samesite"] == "Strict"


def test_charts_escape_every_label():
    svg = charts.bars("t", [("gazelle", "<script>alert(1)</script>", 3)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    grouped = charts.grouped("t", ["2023"], [("eaglet", "雏鹰")], {"2023": {"eaglet": 2}})
    assert grouped.count("<rect") == 2 and "雏鹰" in grouped  # a bar and its legend


def test_downloads_keep_chinese_and_never_start_a_formula():
    rows = [{"uscc": "X", "name": '=HYPERLINK("http://evil")', "industry": "新材料"}]
    text = tables.as_csv(tables.FIRMS, rows).decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0][0] == "统一社会信用代码 USCC"
    assert parsed[1][1].startswith("'=") and parsed[1][2] == "新材料"
    sheet = load_workbook(io.BytesIO(tables.as_xlsx(tables.FIRMS, rows))).active
    assert sheet["B2"].value.startswith("'=") and sheet["B2"].data_type == "s"


def filled(rows_by_sheet, extra_sheet=None):
    book = load_workbook(io.BytesIO(sheets.template()))
    for name, rows in rows_by_sheet.items():
        for number, row in enumerate(rows, start=2):  # as someone types them in
            for column, value in enumerate(row, start=1):
                book[name].cell(row=number, column=column, value=value)
    if extra_sheet:
        book.create_sheet(extra_sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_template_has_a_sheet_per_event_kind_with_lists_for_enumerations():
    book = load_workbook(io.BytesIO(sheets.template()))
    assert book.sheetnames == [sheets.README_SHEET, *(s.name for s in sheets.SHEETS)]
    admissions = book["入孵 admissions"]
    assert [c.value for c in admissions[1]] == [
        "统一社会信用代码 / uscc",
        "入孵日期 (YYYY-MM-DD) / admitted_on",
        "赛道 (60个月: 生物医药/集成电路设计/现代农业) / track",
    ]
    (listed,) = admissions.data_validations.dataValidation
    assert listed.formula1 == '"biomedicine,ic_design,modern_agriculture"'
    graduations = book["毕业 graduations"].data_validations.dataValidation
    assert graduations[0].formula1 == '"high_tech,investment,revenue,acquired_or_listed"'


def test_rows_become_events_with_ids_that_repeat_for_the_same_row():
    code = jilin_uscc()
    data = filled(
        {
            "入孵 admissions": [[code, "2024-03-01", None], [None, None, None]],
            "毕业 graduations": [[code, datetime(2025, 1, 2), "revenue"]],
        }
    )
    found = sheets.read_upload("mine.xlsx", data, 10**6, 100)
    events = sheets.to_events("JL-INC-0001", found, datetime(2026, 1, 1).astimezone())
    assert [(e.sheet.event_type, e.row) for e in events] == [
        ("incubator.firm_admitted", 2),
        ("incubator.firm_graduated", 2),
    ]
    assert events[1].document["data"]["graduated_on"] == "2025-01-02"
    again = sheets.to_events("JL-INC-0001", found, datetime(2026, 2, 1).astimezone())
    assert [e.document["id"] for e in events] == [e.document["id"] for e in again]
    other = sheets.to_events("JL-INC-0002", found, datetime(2026, 2, 1).astimezone())
    assert events[0].document["id"] != other[0].document["id"]
    validate(Posted([e.document for e in events]))  # incubators' own checks take them


def test_an_invalid_row_is_named_by_sheet_row_and_column():
    data = filled({"入孵 admissions": [[jilin_uscc(), "2024-03-01"], ["NOT-A-USCC", "tomorrow"]]})
    found = sheets.read_upload("mine.xlsx", data, 10**6, 100)
    events = sheets.to_events("JL-INC-0001", found, datetime(2026, 1, 1).astimezone())
    with pytest.raises(Problem) as refused:
        validate(Posted([e.document for e in events]))
    errors = sheets.located_errors(events, refused.value.errors)
    assert {(e["sheet"], e["row"], e["column"]) for e in errors} == {
        ("入孵 admissions", 3, "统一社会信用代码 / uscc"),
        ("入孵 admissions", 3, "入孵日期 (YYYY-MM-DD) / admitted_on"),
    }


def test_formulas_are_never_evaluated_only_their_stored_value_is_read():
    book = Workbook()
    book.active.title = "入孵 admissions"
    book.active.append(["统一社会信用代码 / uscc", "入孵日期 / admitted_on"])
    book.active.append(['=CONCAT("9122","0101")', "2024-01-01"])
    out = io.BytesIO()
    book.save(out)  # openpyxl stores no cached value: a formula reads as empty
    (rows,) = sheets.read_upload("f.xlsx", out.getvalue(), 10**6, 10)
    assert rows.rows == [(2, {"admitted_on": "2024-01-01"})]


@pytest.mark.parametrize(
    ("filename", "data", "says"),
    [
        ("big.xlsx", b"x" * 2000, "over 1,000 bytes"),
        ("macro.xlsm", b"PK", "macro"),
        ("old.xls", b"x", "macro"),
        ("notes.txt", b"x", "upload an .xlsx or a .csv"),
        ("broken.xlsx", b"not a zip", "not a valid .xlsx"),
        ("latin.csv", "名".encode("gbk"), "UTF-8"),
        ("other.csv", b"a,b\n1,2\n", "not those of any sheet"),
    ],
)
def test_files_that_are_not_the_template_get_a_clear_message(filename, data, says):
    with pytest.raises(sheets.UploadRefused) as refused:
        sheets.read_upload(filename, data, 1000, 10)
    assert says in str(refused.value)


def test_a_workbook_with_a_macro_part_is_refused_whatever_its_name():
    data = io.BytesIO(filled({}))
    with zipfile.ZipFile(data, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\0")
    with pytest.raises(sheets.UploadRefused, match="macros"):
        sheets.read_upload("innocent.xlsx", data.getvalue(), 10**6, 10)


def test_sheets_and_columns_that_are_not_the_templates_are_refused():
    with pytest.raises(sheets.UploadRefused, match="not one of the template"):
        sheets.read_upload("x.xlsx", filled({}, extra_sheet="Sheet9"), 10**6, 10)
    book = Workbook()
    book.active.title = "退出 exits"
    book.active.append(["uscc", "colour"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(sheets.UploadRefused, match="unknown column 'colour'"):
        sheets.read_upload("x.xlsx", out.getvalue(), 10**6, 10)


def test_a_csv_of_one_sheets_columns_works_too():
    code = jilin_uscc()
    text = (
        f"统一社会信用代码 / uscc,退出日期 / exited_on,退出原因 / reason\n{code},2024-05-01,迁出\n"
    )
    (rows,) = sheets.read_upload("exits.csv", ("\ufeff" + text).encode(), 10**6, 10)
    assert rows.sheet.event_type == "incubator.firm_exited"
    assert rows.rows == [(2, {"uscc": code, "exited_on": "2024-05-01", "reason": "迁出"})]
    report = "year,area_m2,incubatee_area_m2,mentors,staff,fund,incubatees_with_financing,"
    report += "incubatees_with_ip,income\n2024,12000.5,9000,10,12,6000000,5,20,3000000\n"
    (rows,) = sheets.read_upload("r.csv", report.encode(), 10**6, 10)
    assert rows.rows[0][1]["year"] == 2024 and rows.rows[0][1]["area_m2"] == 12000.5


def test_months_left_before_the_limit():
    incubation = {"admitted_on": "2022-03-15", "limit_months": 48}
    assert views.months_left(incubation, date(2026, 3, 15)) == 0
    assert views.months_left(incubation, date(2026, 3, 16)) == -1
    assert views.months_left(incubation, date(2025, 3, 14)) == 12
