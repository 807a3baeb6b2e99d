"""The explorer in a real headless Chromium: `infocontrols serve` runs, an event page shows its source links.

Needs Chromium and ChromeDriver (Debian: apt-get install chromium chromium-driver; .ci/run
installs them). Without them the test is skipped on a developer's machine and fails in CI.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, arrow_rows

pytestmark = pytest.mark.slow  # Chromium


BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
DRIVERS = ("/usr/bin/chromedriver", "chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,2000")


def find(candidates) -> str | None:
    for name in candidates:
        path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(sqlite_export):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infocontrols.cli", "serve", "--db", str(sqlite_export), "--port", str(port), "--package-dir", str(ROOT)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/-/versions.json", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("infocontrols serve did not start: " + process.communicate()[1][-2000:])
            time.sleep(0.3)
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, driver = find(BROWSERS), find(DRIVERS)
    if not (chromium and driver):
        message = "Chromium and ChromeDriver are needed: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(60)
    yield session
    session.quit()


def test_event_page_in_chromium_lists_the_events_source_links(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    counts: dict[str, int] = {}
    for link in arrow_rows("event_sources"):
        counts[link["event_id"]] = counts.get(link["event_id"], 0) + 1
    event_id = max(counts, key=lambda e: (counts[e], e))
    urls = {s["source_id"]: s["url"] for s in arrow_rows("sources")}
    expected = sorted(urls[l["source_id"]] for l in arrow_rows("event_sources") if l["event_id"] == event_id)
    title = next(e["title"] for e in arrow_rows("events") if e["event_id"] == event_id)

    browser.get(f"{server}/infocontrols/events/{event_id}")
    assert event_id in browser.find_element(By.TAG_NAME, "h1").text
    found = sorted(a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.source-link"))
    assert found == expected
    assert title in browser.find_element(By.TAG_NAME, "body").text
    shot = Path(os.environ.get("INFOCONTROLS_SCREENSHOT", tmp_path / "event.png"))
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
