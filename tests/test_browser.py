"""The published site in a real headless Chromium (Debian chromium, driven by Playwright)."""

from __future__ import annotations

import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from nianbao.portal.render import Report, body_html

from .conftest import EXPECTED, ROOT, nianbao

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
XSS = "<script>alert('nianbao')</script>"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hostile_report(tmp_path) -> Path:
    """An agency's page whose title and text carry a script."""
    from nianbao.portal.reports import Planned, synthetic_report

    report, _ = synthetic_report(Planned("某市某某局", 2023, "html"), random.Random(2))
    report = Report(report.record, intro=f"本报告{XSS}依条例编制。", sections=report.sections, signature=report.signature)
    title = f"某市某某局2023年政府信息公开工作年度报告{XSS}".replace("<", "&lt;").replace(">", "&gt;")
    page = f"<html><head><meta charset='utf-8'></head><body><p>{title}</p>{body_html(report)}</body></html>"
    path = tmp_path / "hostile.html"
    path.write_text(page, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def served(crawled, tmp_path_factory):
    data = tmp_path_factory.mktemp("site") / "archive"
    shutil.copytree(crawled["data"], data)
    nianbao("import", "--data", data, hostile_report(tmp_path_factory.mktemp("hostile")))
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "serve", "--data", str(data), "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/-/versions.json", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield url, data
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def page_with_dialog_trap(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page, dialogs


def test_search_then_read_a_figure_of_table_three(served, browser):
    url, data = served
    ARTIFACTS.mkdir(exist_ok=True)
    page, dialogs = page_with_dialog_trap(browser)
    page.goto(url + "/")
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    page.fill("input#q", "复议")
    page.click("form.nianbao-search button[type=submit]")
    page.wait_for_selector("ol.results li.result")
    assert page.locator("ol.results mark").first.inner_text() == "复议"
    page.screenshot(path=str(ARTIFACTS / "search-复议.png"), full_page=True)
    first = page.locator("a.report-link").first
    title = first.inner_text()
    first.click()
    page.wait_for_selector("table.form")
    assert page.locator("h1.report-title").inner_text() == title
    report_id = int(page.url.rsplit("/", 1)[1])
    shown = page.locator('td[data-key="applications.new_received.total"]').inner_text()
    db = sqlite3.connect(data / "nianbao.db")
    stored = db.execute("SELECT applications_received FROM report_figures WHERE report_id = ?", [report_id]).fetchone()[0]
    assert shown == str(stored)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert dialogs == []


def test_script_in_a_report_never_runs(served, browser):
    url, data = served
    page, dialogs = page_with_dialog_trap(browser)
    page.goto(url + "/-/search?q=某市某某局")
    link = page.locator("a.report-link").first
    assert XSS in link.inner_text()  # shown as text
    link.click()
    page.wait_for_selector("h1.report-title")
    assert XSS in page.locator("h1.report-title").inner_text()
    for path in ("/nianbao/reports", "/nianbao/report_figures", "/nianbao/search_reports", "/nianbao/feed"):
        page.goto(url + path)
    page.screenshot(path=str(ARTIFACTS / "hostile-report.png"), full_page=True)
    assert dialogs == []
    raw = urllib.request.urlopen(url + "/-/search?q=" + quote("某市某某局")).read().decode()
    assert XSS not in raw and "&lt;script&gt;" in raw
    feed = urllib.request.urlopen(url + "/nianbao/feed.atom").read().decode()
    assert XSS not in feed and "&lt;script&gt;" in feed


def test_the_published_site_is_read_only(served):
    url, _ = served
    request = urllib.request.Request(url + "/nianbao/-/query", method="POST",
                                     data=b"sql=delete+from+reports")
    try:
        urllib.request.urlopen(request)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status in (400, 403, 405)
    rows = urllib.request.urlopen(url + "/nianbao.json?sql=select+count(*)+from+reports").read()
    assert f"[[{len(EXPECTED) + 1}]]".encode() in rows  # the portal's reports and the one imported: nothing deleted
