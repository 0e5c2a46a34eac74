"""The published site in a real headless Chromium (Debian chromium, driven by Playwright)."""

from __future__ import annotations

import random
import sqlite3
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from sampleportal.render import Report, body_html

from .conftest import EXPECTED, ROOT, copy_archive, nianbao, serving
from .processes import processes_mentioning

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
XSS = "<script>alert('nianbao')</script>"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]


def hostile_report(tmp_path) -> Path:
    """An agency's page whose title and text carry a script."""
    from sampleportal.reports import Planned, synthetic_report

    report, _ = synthetic_report(Planned("某市某某局", 2023, "html"), random.Random(2))
    report = Report(report.record, intro=f"本报告{XSS}依条例编制。", sections=report.sections, signature=report.signature)
    title = f"某市某某局2023年政府信息公开工作年度报告{XSS}".replace("<", "&lt;").replace(">", "&gt;")
    page = f"<html><head><meta charset='utf-8'></head><body><p>{title}</p>{body_html(report)}</body></html>"
    path = tmp_path / "hostile.html"
    path.write_text(page, encoding="utf-8")
    return path


SEED_003 = ROOT.parent / "shared" / "seeds" / "003_af9e41ea1b030f3f.txt"  # 洛江区科学技术局 2020, a real report
OLD_WORDING = ("将政务信息公开工作纳入绩效考核内容", "将政务信息公开工作纳入年度目标责任制考核")
OLD_FIGURE = ("规范性文件\t0\t0\t2", "规范性文件\t0\t0\t3")


def revise(data: Path, folder: Path) -> Path:
    """A real revision: a report file imported with a sentence and one figure its agency later corrected.

    `nianbao import` adds the file to its report (泉州市洛江区科学技术局 2020) as a local document.

    The first version is the seed with one sentence worded differently and 规范性文件 对外公开总数量 3;
    the second, at the same path, is the seed as published (2). `nianbao import` sees changed bytes
    at the same URL and records a new version with what changed.
    """
    published = SEED_003.read_text(encoding="utf-8")
    assert OLD_WORDING[0] in published and OLD_FIGURE[0] in published
    path = folder / "洛江区科学技术局2020年政府信息公开工作年度报告.txt"
    path.write_text(published.replace(*OLD_WORDING).replace(*OLD_FIGURE), encoding="utf-8")
    nianbao("import", "--data", data, path)
    path.write_text(published, encoding="utf-8")
    nianbao("import", "--data", data, path)
    return path


@pytest.fixture(scope="module")
def served(crawled, tmp_path_factory):
    data = tmp_path_factory.mktemp("site") / "archive"
    copy_archive(crawled["data"], data)
    nianbao("import", "--data", data, hostile_report(tmp_path_factory.mktemp("hostile")))
    revise(data, tmp_path_factory.mktemp("revision"))
    with serving(data) as (url, _, _):
        yield url, data
    assert processes_mentioning(str(data)) == [], "serve left a Datasette process behind"


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
    url, data = served
    request = urllib.request.Request(url + "/nianbao/-/query", method="POST",
                                     data=b"sql=delete+from+reports")
    try:
        urllib.request.urlopen(request)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status in (400, 403, 405)
    rows = urllib.request.urlopen(url + "/nianbao.json?sql=select+count(*)+from+reports&_shape=array").read()
    (count,) = sqlite3.connect(data / "nianbao.db").execute("SELECT count(*) FROM reports").fetchone()
    assert f'"count(*)": {count}'.encode() in rows and count >= len(EXPECTED)


# ---------------------------------------------------------------- issue 15: one test per task, from the home page, clicking

def db_of(data) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data / 'nianbao.db'}?mode=ro", uri=True)


def home(browser, url, width=1280):
    page, dialogs = page_with_dialog_trap(browser)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url + "/")
    return page, dialogs


def test_a_compare_new_requests_for_one_year_and_download_csv(served, browser, tmp_path):
    url, data = served
    page, dialogs = home(browser, url)
    page.click("a.compare-link")
    page.fill("input[name=year]", "2021")
    page.click("input[type=submit]")
    page.wait_for_selector("table.rows-and-columns tbody tr")
    assert "本年新收申请" in page.locator("table.rows-and-columns thead").inner_text()
    with page.expect_download() as download:
        page.click("a.csv-bom")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"))))
    header = list(rows[0])
    assert "发布机关 agency" in header and "本年新收申请 applications_received" in header and "存档副本 archive_url" in header
    truth = dict(db_of(data).execute(
        "SELECT a.name, f.applications_received FROM report_figures f JOIN reports r ON r.id = f.report_id "
        "JOIN agencies a ON a.id = r.agency_id WHERE f.year = 2021").fetchall())
    assert {r["发布机关 agency"]: (int(r["本年新收申请 applications_received"]) if r["本年新收申请 applications_received"]
                                else None) for r in rows} == truth
    shas = dict(db_of(data).execute("SELECT r.id, v.sha256 FROM reports r JOIN versions v ON v.id = r.source_version_id"))
    for row in rows:  # an archive link per row, to the bytes the figures came from
        report_id = int(row["报告编号 report_id"])
        assert row["存档副本 archive_url"] == f"{url}/-/blob/{shas[report_id]}"
    response = urllib.request.urlopen(rows[0]["存档副本 archive_url"])
    assert response.status == 200
    assert dialogs == []


def test_b_from_a_report_reach_the_agencys_other_years_and_the_change(served, browser):
    url, data = served
    page, _ = home(browser, url)
    page.locator("a.year-link", has_text="2022").click()  # browse by year → the figures table
    page.locator("table.rows-and-columns tbody tr td.col-title a").first.click()
    page.wait_for_selector("h1.report-title")
    agency = page.locator("a.agency-link").first.inner_text()
    years = {int(y) for y in page.locator("nav.years-nav a").all_inner_texts() if y.isdigit()}
    year = max(y for y in years if y - 1 in years and y != 2022)  # a year with the year before it
    page.locator("nav.years-nav a.other-year", has_text=str(year)).click()
    page.wait_for_selector("h1.report-title")
    assert str(year) in page.locator("h1.report-title").inner_text()
    assert page.locator("a.agency-link").first.inner_text() == agency
    figures = dict(db_of(data).execute(
        "SELECT f.year, f.applications_received FROM report_figures f JOIN reports r ON r.id = f.report_id "
        "JOIN agencies a ON a.id = r.agency_id WHERE a.name = ? AND f.year IN (?, ?)", [agency, year - 1, year]).fetchall())
    row = page.locator("table.history tr", has=page.locator("td a", has_text=str(year)))
    cell = row.locator('td[data-figure="applications_received"]')
    delta = figures[year] - figures[year - 1]
    assert cell.locator(".delta").inner_text().startswith(f"{delta:+d}")
    page.locator("a.agency-link").first.click()  # the agency page: every year, chart with axes
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart text.tick").count() >= 2 and page.locator("svg.chart text.value").count() > 0


def test_c_find_failing_reports_and_see_the_offending_cells(served, browser):
    url, data = served
    page, _ = home(browser, url)
    page.click("a.failing-link")
    page.locator("table.rows-and-columns tbody tr td.col-title a").first.click()
    page.wait_for_selector("h1.report-title")
    report_id = int(page.url.rsplit("/", 1)[1])
    failed = db_of(data).execute(
        "SELECT c.check_id, c.scope, c.detail FROM checks c JOIN reports r ON r.source_version_id = c.version_id "
        "WHERE r.id = ? AND c.status = 'fail'", [report_id]).fetchall()
    assert failed
    marked = set(page.locator("table.form td.offending").evaluate_all("cells => cells.map(c => c.dataset.key)"))
    for check_id, scope, detail in failed:
        table = check_id.split(".")[0]
        # the check's own statement names the cells it adds up: "new_received + carried_over = total_processed + …"
        names = [w for w in detail.replace("=", "+").split("+") if w.strip().isidentifier()]
        expected = ({f"{table}.{n.strip()}.{scope}" for n in names} if table == "applications"
                    else {f"{table}.{scope}.{n.strip()}" for n in names})
        assert expected <= marked, (check_id, scope)
    first_form = page.locator("table.form").first.bounding_box()["y"]
    assert page.locator("#failing-checks").bounding_box()["y"] < first_form  # failing checks first
    colour = page.locator("table.form td.offending").first.evaluate("c => getComputedStyle(c).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")


def test_d_search_sort_by_year_page_two_and_open_the_pdf_inline(served, browser):
    url, data = served
    page, _ = home(browser, url)
    page.fill("input#q", "行政复议")
    page.click("form.nianbao-search button[type=submit]")
    page.wait_for_selector("ol.results li.result")
    total = int(page.locator("p.count strong.total").inner_text().replace(",", ""))
    assert total > 40
    page.click("a.sort-newest")
    page.click("a.size-20")
    page.click("nav.pager a.next")
    page.wait_for_selector("ol.results li.result")
    assert "page=2" in page.url
    years = [int(y) for y in page.locator("ol.results .year").all_inner_texts()]
    assert len(years) == 20 and years == sorted(years, reverse=True)
    newest_first = [r[0] for r in db_of(data).execute("SELECT year FROM reports ORDER BY year DESC")]
    assert years == newest_first[20:40]  # page 2 of the whole result set, ordered by year
    with_pdf = {r[0] for r in db_of(data).execute(
        "SELECT d.report_id FROM documents d JOIN versions v ON v.document_id = d.id JOIN blobs b ON b.sha256 = v.sha256 "
        "WHERE b.media_type = 'application/pdf'")}
    links = page.locator("a.report-link")
    index = next(i for i in range(links.count()) if int(links.nth(i).get_attribute("href").rsplit("/", 1)[1]) in with_pdf)
    links.nth(index).click()
    page.wait_for_selector("h1.report-title")
    pdf_link = page.locator("div.document", has_text="PDF").locator("a.archived-copy")
    with page.expect_response(lambda r: "/-/blob/" in r.url) as response:
        pdf_link.click()
    assert response.value.headers["content-type"] == "application/pdf"
    disposition = response.value.headers["content-disposition"]
    assert disposition.startswith("inline;") and ".pdf" in disposition
    page.wait_for_load_state()
    assert page.evaluate("document.contentType") == "application/pdf"  # shown, not downloaded
    for _ in range(50):  # Chromium's PDF viewer is an extension frame inside the page
        if any(f.url.startswith("chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/") for f in page.frames):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"the PDF viewer did not load: {[f.url for f in page.frames]}")
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "pdf-inline.png"))


def test_e_after_a_revision_badge_diff_and_old_wording(served, browser):
    url, _ = served
    page, _ = home(browser, url)
    page.fill("input#q", "年度目标责任制考核")  # the wording the agency replaced
    page.click("form.nianbao-search button[type=submit]")
    page.wait_for_selector("ol.results li.result")
    result = page.locator("li.result").first
    assert "旧版本 earlier version" in result.locator(".badge-earlier").inner_text()
    assert "洛江区科学技术局" in result.inner_text()
    result.locator("a.report-link").click()
    page.wait_for_selector("#revised-badge")
    report_path = "/-/report/" + page.url.rsplit("/", 1)[1]
    assert "已修订" in page.locator("#revised-badge").inner_text()
    old, new = page.locator("table.cell-diff td.old").first, page.locator("table.cell-diff td.new").first
    assert (old.inner_text(), new.inner_text()) == ("3", "2")
    assert old.evaluate("c => getComputedStyle(c).backgroundColor") != new.evaluate("c => getComputedStyle(c).backgroundColor")
    deleted = page.locator("pre.diff span.del", has_text=OLD_WORDING[1])
    added = page.locator("pre.diff span.add", has_text=OLD_WORDING[0])
    assert deleted.count() == 1 and added.count() == 1
    assert deleted.evaluate("s => getComputedStyle(s).backgroundColor") not in ("rgba(0, 0, 0, 0)", "rgb(246, 246, 246)")
    # the published wording finds the report as a current hit, not as an earlier version
    page.locator("header a").first.click()
    page.fill("input#q", OLD_WORDING[0][-8:])
    page.click("form.nianbao-search button[type=submit]")
    page.wait_for_selector("ol.results li.result")
    ours = page.locator("li.result", has=page.locator(f'a.report-link[href="{report_path}"]'))
    assert ours.count() == 1
    assert "earlier" not in ours.get_attribute("class")


def test_f_report_page_at_390_px_without_horizontal_scrolling(served, browser):
    url, _ = served
    page, _ = home(browser, url, width=390)
    page.locator("a.year-link").first.click()
    page.locator("table.rows-and-columns tbody tr td.col-title a").first.click()
    page.wait_for_selector("table.form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("a.agency-link").first.click()
    page.wait_for_selector("svg.chart")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.go_back()
    page.locator("header a").first.click()  # back home, then search at 390 px too
    page.fill("input#q", "复议")
    page.click("form.nianbao-search button[type=submit]")
    page.wait_for_selector("ol.results li.result")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
