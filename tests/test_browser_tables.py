"""The statutory table builder and a table not read, in a real headless Chromium, from the home page by clicking."""

from __future__ import annotations

import sqlite3
import urllib.request
from pathlib import Path

import pytest
from openpyxl import load_workbook

from .conftest import EXPECTED, REAL, copy_archive, nianbao, serving
from .processes import processes_mentioning
from .test_browser import ARTIFACTS, CHROMIUM, browser, page_with_dialog_trap  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]

PINGTAN = REAL / "docs" / "pingtan_2021.txt"  # a real published page whose 表四 cells are glued together
LUOJIANG_2023 = {e["agency"] for e in EXPECTED if "洛江区" in e["agency"] and e["year"] == 2023}

# the report page's 表三, row by row: the row's own label (the last label cell before its figures) and its 7 figures
READ_FORM = """table => [...table.rows].filter(r => r.querySelector('td[data-key^="applications."]')).map(r => {
  const cells = [...r.cells];
  const first = cells.findIndex(c => c.dataset.key);
  return [cells[first - 1].innerText.trim(), cells.slice(first).map(c => c.innerText.trim())];
})"""


@pytest.fixture(scope="module")
def served_gaps(crawled, tmp_path_factory):
    data = tmp_path_factory.mktemp("site-gaps") / "archive"
    copy_archive(crawled["data"], data)
    nianbao("import", "--data", data, PINGTAN)
    with serving(data) as (url, _, _):
        yield url, data
    assert processes_mentioning(str(data)) == []


def xlsx_blocks(path) -> dict[str, dict[str, list[str]]]:
    """{agency: {row label: 7 figures as text}} from the downloaded workbook's printed shape."""
    sheet = load_workbook(path).active
    found, current = {}, None
    for row in sheet.iter_rows(min_row=3, values_only=True):
        if isinstance(row[0], str) and " · " in row[0] and str(row[1] or "").startswith("http"):
            current = found.setdefault(row[0].split(" · ")[0], {})
            continue
        if current is not None and any(isinstance(v, int) for v in row[3:10]):
            label = next(v for v in reversed(row[:3]) if isinstance(v, str) and v.strip())
            current[label.strip()] = ["" if v is None else str(v) for v in row[3:10]]
    return found


def test_luojiang_2023_table_three_as_xlsx_matches_the_report_pages(served_gaps, browser, tmp_path):  # noqa: F811
    url, data = served_gaps
    page, dialogs = page_with_dialog_trap(browser)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(url + "/")
    page.locator("a.region-link", has_text="福建省").click()
    page.locator("a.region-link", has_text="泉州市").click()
    page.locator("a.region-link", has_text="洛江区").click()
    page.locator("a.tables-link").first.click()
    page.wait_for_selector("form.table-builder")
    page.select_option("select[name=year]", "2023")
    page.check("input[name=table][value=三]")
    page.click("button.build")
    page.wait_for_selector("section.table-block")
    assert page.locator("section.table-block").count() == len(LUOJIANG_2023)
    with page.expect_download() as download:
        page.click("a.download-xlsx")
    saved = tmp_path / "tables.xlsx"
    download.value.save_as(saved)
    workbook = xlsx_blocks(saved)
    assert set(workbook) == LUOJIANG_2023  # the sample portal's list of 洛江区's 2023 reports

    # truth: each report's own page, reached by clicking its block's heading
    for index in range(len(LUOJIANG_2023)):
        heading = page.locator("section.table-block h2 > a").nth(index)
        agency = heading.inner_text().split(" · ")[0]
        heading.click()
        page.wait_for_selector("h1.report-title")
        shown = page.locator("table.form").nth(1).evaluate(READ_FORM)
        assert len(shown) == 25  # every keyed row of the 2021 form's 表三
        assert {label: values for label, values in shown} == workbook[agency], agency
        page.go_back()
        page.wait_for_selector("section.table-block")
    page.screenshot(path=str(ARTIFACTS / "builder-luojiang-2023.png"), full_page=True)
    assert dialogs == []


def test_a_report_with_a_table_not_read_says_so_in_chinese(served_gaps, browser):  # noqa: F811
    url, data = served_gaps
    page, dialogs = page_with_dialog_trap(browser)
    page.goto(url + "/")
    page.fill("input#q", "平潭")
    page.click("form.nianbao-search button[type=submit]")
    page.locator("a.report-link", has_text="平潭综合实验区2021").first.click()
    page.wait_for_selector("h1.report-title")
    notice = page.locator('.gap-notice[data-table="review_litigation"]')
    assert notice.is_visible()
    text = notice.inner_text()
    assert "表四未读出" in text and "原因：数字粘连在一起（10203120001200000）" in text
    # beside its table: between the heading of 四 and the form under it
    heading_y = page.locator("#table-review_litigation").bounding_box()["y"]
    form_y = page.locator("table.form").nth(2).bounding_box()["y"]
    assert heading_y < notice.bounding_box()["y"] < form_y
    # the developer's English is folded away, not where people read
    assert not page.get_by_text("split more than one way").first.is_visible()
    href = notice.locator("a.gap-original").get_attribute("href")
    assert href.startswith("/-/blob/")
    db = sqlite3.connect(f"file:{data / 'nianbao.db'}?mode=ro", uri=True)
    assert db.execute("SELECT count(*) FROM blobs WHERE sha256 = ?", [href.rsplit("/", 1)[1]]).fetchone()[0] == 1
    original = urllib.request.urlopen(url + href).read().decode("utf-8")
    assert "10203120001200000" in original  # the archived original, where the glued run is printed
    page.set_viewport_size({"width": 390, "height": 900})
    page.locator("#table-review_litigation").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "table-not-read-390.png"))
    assert dialogs == []


def fits_with_first_column_held(page, box: str, first: str, last: str) -> None:
    """Nothing is cut off the page; the table scrolls inside its box to its last column; its first column stays."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    frame = page.locator(box).first.bounding_box()
    assert frame["x"] >= 0 and frame["x"] + frame["width"] <= 1366
    before = page.locator(first).first.bounding_box()["x"]
    page.locator(box).first.evaluate("b => { b.scrollLeft = 100000; }")
    end = page.locator(last).last.bounding_box()
    assert end["x"] + end["width"] <= frame["x"] + frame["width"] + 1
    assert page.locator(first).first.bounding_box()["x"] == before


def test_wide_tables_fit_at_1366_with_their_first_column_held(served_gaps, browser):  # noqa: F811
    url, data = served_gaps
    page, dialogs = page_with_dialog_trap(browser)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(url + "/")
    page.locator("a.year-link").first.click()  # a year's figures: report_figures, 21 columns
    page.wait_for_selector("table.rows-and-columns")
    assert page.locator("table.rows-and-columns").bounding_box()["width"] > 1366  # wide: it must scroll
    fits_with_first_column_held(page, ".table-wrapper", "table.rows-and-columns tbody td",
                                "table.rows-and-columns thead th")
    page.goto(url + "/")
    page.locator("a.region-link").first.click()
    page.locator("a.agency-link").first.click()  # an agency's year table
    page.wait_for_selector("table.data.history")
    fits_with_first_column_held(page, ".scroll", "table.data.history td", "table.data.history th")
    assert page.locator("p.legend").first.is_visible()  # colours explained where they mean something
    assert dialogs == []
