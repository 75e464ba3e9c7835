"""The portal in a real browser (Debian's Chromium through Selenium) against the five services
and the portal as `nameko run` processes: sign-in, every page, the inbox actions, an upload with
a bad row and then a good one, downloads, and no page or download of one unit or carrier open
to another's key. Screenshots go to reports/screenshots/."""

import csv
import io
import json

import pytest
import requests
from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from shared.publisher import Publisher
from tests.support.browser import chromium, csrf_of, screenshot, signed_in, submit
from tests.support.events import (
    admission,
    annual_report,
    carrier_report,
    cloud_event,
    incubator,
    jilin_uscc,
    registration,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

CARRIER_A, CARRIER_B = "JL-INC-0101", "JL-INC-0201"
SCRIPT_NAME = '<script>alert("x")</script>长春测试'
SERVICES = ("auth", "registry", "tiering", "incubators", "notifications", "portal")


@pytest.fixture
def running(run_service, config_for, monkeypatch):
    monkeypatch.setenv("PORTAL_SIGNIN_BURST", "40")  # this test signs in many times
    monkeypatch.setenv("AUTH_KEY_CACHE_SECONDS", "2")
    return {name: run_service(name, {**config_for(name)}) for name in SERVICES}


@pytest.fixture
def province(running, service_config, keys):
    """Two units' firms and carriers, loaded through the contract and processed."""
    f1, f2, f3 = jilin_uscc(), jilin_uscc(), jilin_uscc()
    g1 = jilin_uscc(region="220202")
    events = [
        cloud_event("enterprise.registered", registration(f1, name="长春光电测试科技有限公司")),
        cloud_event("enterprise.registered", registration(f2, name=SCRIPT_NAME)),
        cloud_event("enterprise.registered", registration(f3, name="长春新材料初创公司")),
        cloud_event(
            "enterprise.registered",
            registration(g1, name="吉林碳谷新材料有限公司", region_code="220202"),
        ),
        *(cloud_event("enterprise.annual_report", annual_report(c, 2024)) for c in (f1, f2, g1)),
        cloud_event(
            "incubator.registered",
            incubator(CARRIER_A, name="长春北湖科技孵化器", grade="national"),
            source="/torch",
        ),
        cloud_event(
            "incubator.registered",
            incubator(CARRIER_B, name="吉林市高新孵化器", region_code="220202"),
            source="/torch",
        ),
    ]
    publisher = Publisher(service_config["AMQP_URI"])
    try:
        publisher.publish_events(events)
        admin = keys.headers("admin")
        incubators = running["incubators"].base_url

        def carriers_known():
            return all(
                requests.get(f"{incubators}/v1/incubators/{c}", headers=admin, timeout=10).ok
                for c in (CARRIER_A, CARRIER_B)
            )

        wait_for(carriers_known, timeout=60, what="both carriers registered")
        publisher.publish_events(
            [
                cloud_event(
                    "incubator.firm_admitted",
                    admission(CARRIER_A, f1),
                    source=f"/incubators/{CARRIER_A}",
                ),
                cloud_event(
                    "incubator.firm_admitted",
                    admission(CARRIER_B, g1),
                    source=f"/incubators/{CARRIER_B}",
                ),
            ]
        )
        a_url = f"{incubators}/v1/incubators/{CARRIER_A}"
        wait_for(
            lambda: requests.get(a_url, headers=admin, timeout=10).json()["counts"]["current"] == 1,
            what="the admissions",
        )
        publisher.publish_events(  # after the admission: its shortfalls do not depend on order
            [
                cloud_event(
                    "incubator.annual_report",
                    carrier_report(CARRIER_A),
                    source=f"/incubators/{CARRIER_A}",
                )
            ]
        )
    finally:
        publisher.close()
    tiering, notifications = running["tiering"].base_url, running["notifications"].base_url

    def processed():
        tiers = [
            requests.get(f"{tiering}/v1/enterprises/{c}/tier", headers=admin, timeout=10)
            for c in (f1, f2, g1)
        ]
        carrier = requests.get(
            f"{incubators}/v1/incubators/{CARRIER_A}", headers=admin, timeout=10
        ).json()
        inbox = requests.get(
            f"{notifications}/v1/units/220100/alerts", headers=admin, timeout=10
        ).json()
        return (
            all(t.ok and t.json()["tier"] == "eaglet" for t in tiers)
            and len(carrier["findings"]) == 4  # a late admission, 3 national shortfalls
            and len(inbox["items"]) == 6  # those and two firms becoming eaglets
        )

    wait_for(processed, timeout=120, interval=0.5, what="tiers, incubations, findings, alerts")
    return {"f1": f1, "f2": f2, "f3": f3, "g1": g1}


def test_the_portal_in_a_browser(running, province, keys, tmp_path):
    base = running["portal"].base_url
    unit_key, other_unit_key = keys.issue("unit", "220100"), keys.issue("unit", "220200")
    carrier_key, other_carrier_key = (
        keys.issue("incubator", CARRIER_A),
        keys.issue("incubator", CARRIER_B),
    )
    with chromium() as browser:

        def sign_in(key):
            browser.get(f"{base}/signin")
            browser.find_element(By.NAME, "key").send_keys(key)
            submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button"))

        # a wrong key and a key that is not for people are told so, nothing more
        sign_in(unit_key[:-2] + "xx")
        assert "密钥无效 / The key is not valid." in browser.page_source
        assert browser.get_cookie("tracker_session") is None
        sign_in(keys.issue("service", "report"))
        assert "This key cannot sign in here." in browser.page_source
        screenshot(browser, "signin")

        # a unit: its overview, with charts, tables, filters and a firm named like a script
        sign_in(unit_key)
        wait_for(lambda: browser.current_url.endswith("/units/220100"), what="the overview")
        cookie = browser.get_cookie("tracker_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie.get("expiry")
        page = browser.page_source
        assert page.count("<svg") == 2 and "长春光电测试科技有限公司" in page
        assert "吉林碳谷新材料有限公司" not in page  # another unit's firm
        assert browser.find_element(By.LINK_TEXT, province["f2"]).is_displayed()
        shown = [e.text for e in browser.find_elements(By.XPATH, "//td")]
        assert SCRIPT_NAME in shown  # shown as text, never run
        assert browser.execute_script("return document.querySelectorAll('main script').length") == 0
        assert "长春北湖科技孵化器" in page and "未解决问题 Open findings" in page
        screenshot(browser, "unit-overview")
        browser.find_element(By.NAME, "tier").send_keys("瞪羚 gazelle")
        submit(browser, browser.find_element(By.CSS_SELECTOR, "form[method='get'] button"))
        assert "tier=gazelle" in browser.current_url
        assert (
            "长春光电测试科技有限公司"
            not in browser.find_element(By.ID, "firms")
            .find_element(By.XPATH, "following-sibling::table[1]")
            .text
        )

        # a firm: its profile, reports, every condition, history and incubations
        browser.get(f"{base}/firms/{province['f1']}")
        page = browser.page_source
        for text in ("雏鹰 eaglet", "年报 Annual reports", "梯次历史 Tier history", CARRIER_A):
            assert text in page, text
        assert "✓ 是 yes" in page and "✗ 否 no" in page
        screenshot(browser, "firm")

        # the inbox: unread first, one marked read, then all
        browser.get(f"{base}/units/220100/inbox")
        unread_before = len(browser.find_elements(By.XPATH, "//td[text()='未读 unread']"))
        assert unread_before >= 4
        screenshot(browser, "inbox")
        submit(browser, browser.find_element(By.XPATH, "//button[text()='标为已读 Mark read']"))
        assert len(browser.find_elements(By.XPATH, "//td[text()='已读 read']")) == 1
        submit(
            browser, browser.find_element(By.XPATH, "//button[text()='全部标为已读 Mark all read']")
        )
        assert not browser.find_elements(By.XPATH, "//button[text()='标为已读 Mark read']")
        unread = requests.get(
            f"{running['notifications'].base_url}/v1/units/220100/alerts",
            params={"unread": "true"},
            headers={"Authorization": f"Bearer {unit_key}"},
            timeout=10,
        ).json()["items"]
        assert unread == []  # the same state as the API's

        # the unit's view of its carrier
        browser.get(f"{base}/carriers/{CARRIER_A}")
        page = browser.page_source
        assert "长春光电测试科技有限公司" in page and "late_admission" in page
        assert "national_threshold" in page and "上传表格" not in page  # not the carrier's staff
        submit(browser, browser.find_element(By.XPATH, "//button[text()='退出 Sign out']"))
        assert browser.current_url.endswith("/signin")
        browser.get(f"{base}/units/220100")
        assert browser.current_url.endswith("/signin")

        # the carrier: its page, the template, an upload with a bad row, then a good one
        sign_in(carrier_key)
        wait_for(lambda: browser.current_url.endswith(f"/carriers/{CARRIER_A}"), what="carrier")
        page = browser.page_source
        assert "在孵企业 Current incubatees" in page and "期限剩余(月) Months left" in page
        screenshot(browser, "carrier")
        browser.get(f"{base}/carriers/{CARRIER_A}/upload")
        session = requests.Session()
        session.cookies.set("tracker_session", browser.get_cookie("tracker_session")["value"])
        template = session.get(f"{base}/template.xlsx", timeout=10)
        assert template.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        book = load_workbook(io.BytesIO(template.content))
        admissions = book["入孵 admissions"]
        admissions["A2"], admissions["B2"] = province["f3"], "2025-01-10"
        admissions["A3"], admissions["B3"] = "NOT-A-USCC", "2025-01-10"
        bad, good = tmp_path / "with-a-bad-row.xlsx", tmp_path / "good.xlsx"
        book.save(bad)
        admissions["A3"], admissions["B3"] = None, None
        book.save(good)

        def upload(path):
            browser.find_element(By.NAME, "file").send_keys(str(path))
            submit(browser, browser.find_element(By.CSS_SELECTOR, "form[enctype] button"))
            return browser.find_element(By.CSS_SELECTOR, "[role=alert], [role=status]").text

        said = upload(bad)
        assert "Nothing was submitted." in said
        row = browser.find_element(By.XPATH, "//div[@class='error']//tbody/tr").text
        assert "入孵 admissions" in row and " 3 " in f" {row} " and "uscc" in row
        screenshot(browser, "upload-refused")
        assert "Accepted 1 events; 0 were duplicates." in upload(good)
        screenshot(browser, "upload-accepted")
        assert "Accepted 0 events; 1 were duplicates." in upload(good)
        wait_for(
            lambda: (
                province["f3"]
                in requests.get(
                    f"{running['incubators'].base_url}/v1/incubators/{CARRIER_A}",
                    headers={"Authorization": f"Bearer {carrier_key}"},
                    timeout=10,
                ).text
            ),
            what="the uploaded admission processed",
        )
        browser.get(f"{base}/firms/{province['f3']}")  # now its incubatee
        assert "长春新材料初创公司" in browser.page_source

    downloads_are_the_units_own(base, unit_key, province)
    nothing_open_to_another_unit_or_carrier(base, other_unit_key, other_carrier_key, province)
    forms_need_their_token(base, unit_key)
    signing_in_is_rate_limited(base)


def a_pages(province):
    """Every page and download of unit 220100 and carrier A."""
    tables = ("firms", "changes", "watchlist", "carriers")
    return [
        "/units/220100",
        "/units/220100/inbox",
        *(f"/units/220100/download/{t}.{f}" for t in tables for f in ("csv", "xlsx")),
        f"/firms/{province['f1']}",
        f"/carriers/{CARRIER_A}",
        f"/carriers/{CARRIER_A}/upload",
    ]


def downloads_are_the_units_own(base, unit_key, province):
    client = signed_in(base, unit_key)
    firms = client.get(f"{base}/units/220100/download/firms.csv", timeout=30)
    assert firms.status_code == 200 and "attachment" in firms.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(firms.content.decode("utf-8-sig"))))
    assert {province["f1"], province["f2"]} <= {r[0] for r in rows}
    assert province["g1"] not in {r[0] for r in rows} and SCRIPT_NAME in {r[1] for r in rows}
    carriers = client.get(f"{base}/units/220100/download/carriers.xlsx", timeout=30)
    book = load_workbook(io.BytesIO(carriers.content))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert CARRIER_A in cells and CARRIER_B not in cells


def nothing_open_to_another_unit_or_carrier(base, other_unit_key, other_carrier_key, province):
    secrets_of_a = ("长春光电测试科技有限公司", "长春北湖科技孵化器", SCRIPT_NAME)  # names
    for key in (other_unit_key, other_carrier_key):
        client = signed_in(base, key)
        for path in a_pages(province):
            answer = client.get(f"{base}{path}", timeout=30, allow_redirects=False)
            assert answer.status_code == 403, (key[:12], path, answer.status_code)
            body = answer.content.decode("utf-8", "replace")
            assert not any(secret in body for secret in secrets_of_a), path
        token = csrf_of(client.get(f"{base}/", timeout=30).text)  # its own session's token
        marked = client.post(
            f"{base}/units/220100/inbox/read", data={"csrf": token, "all": "1"}, timeout=30
        )
        assert marked.status_code == 403
        uploaded = client.post(
            f"{base}/carriers/{CARRIER_A}/upload",
            data={"csrf": token},
            files={"file": ("a.csv", b"uscc,exited_on,reason\n")},
            timeout=30,
        )
        assert uploaded.status_code == 403


def forms_need_their_token(base, unit_key):
    client = signed_in(base, unit_key)
    forged = client.post(f"{base}/units/220100/inbox/read", data={"all": "1"}, timeout=30)
    assert forged.status_code == 403 and "the form has expired" in forged.text
    out = client.post(f"{base}/signout", data={}, timeout=30)
    assert out.status_code == 403  # sign-out is a form too


def signing_in_is_rate_limited(base):
    client = requests.Session()
    statuses = []
    for _ in range(60):
        form = client.get(f"{base}/signin", timeout=15)
        answer = client.post(
            f"{base}/signin", data={"csrf": csrf_of(form.text), "key": "tk_x.y"}, timeout=15
        )
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}, statuses
    assert int(answer.headers["Retry-After"]) >= 1
    print(json.dumps({"sign-in attempts before 429": len(statuses) - 1}))
