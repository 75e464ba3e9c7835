"""Debian's Chromium driven by Selenium through Debian's chromedriver (installed by
scripts/ensure-chromium.sh), and a requests session signed in to the portal like a browser."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
# Without the background-networking flags Chromium's own connections are refused by this
# machine's closed network, many at a time.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
FLAGS = (*HEADLESS, "--window-size=1280,2000", "--lang=zh-CN")


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.set_page_load_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()


def gone(element: WebElement) -> bool:
    """Whether the element's document was replaced. Chromium answers a stale element either as
    stale or, while the new document comes in, that the node is not in the document: both are
    gone (StaleElementReferenceException is a WebDriverException)."""
    try:
        element.is_enabled()
    except WebDriverException:
        return True
    return False


def submit(driver: webdriver.Chrome, button: WebElement, timeout: float = 30) -> None:
    """Click a form's button and wait until the page it leads to has replaced this one (a
    click returns before the navigation it starts is over)."""
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, timeout).until(lambda d: gone(page))
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """The whole page as a PNG test artefact in reports/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(800, min(int(height) + 40, 6000)))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def signed_in(base_url: str, key: str) -> requests.Session:
    """A session that signed in through the form, as a browser does (cookie and CSRF)."""
    client = requests.Session()
    form = client.get(f"{base_url}/signin", timeout=15)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    done = client.post(
        f"{base_url}/signin", data={"csrf": token, "key": key}, timeout=15, allow_redirects=False
    )
    assert done.status_code == 303, done.text
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)
