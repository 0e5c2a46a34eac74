"""Finding things, in a real headless Chromium over a real Datasette serving a real crawl (issue 28):
each task starts at the home page and goes by clicking."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from xml.etree import ElementTree

import pytest

from .conftest import EXPECTED
from .test_browser import CHROMIUM, browser, home, served  # noqa: F401 - the fixtures: one served archive, one Chromium

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]

ATOM = {"a": "http://www.w3.org/2005/Atom"}
PHRASE = "需要另行制作"  # in the 2021 template's 表三 only: in some reports of each kind of agency, not all
SCIENCE = ("科技局", "科学技术局")


def db_of(data) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data / 'nianbao.db'}?mode=ro", uri=True)


def test_search_a_quoted_phrase_within_an_agency_by_its_short_name(served, browser):  # noqa: F811
    url, data = served
    rows = db_of(data).execute("SELECT r.id, a.name, coalesce(v.text, '') FROM reports r JOIN agencies a ON a.id = r.agency_id "
                               "LEFT JOIN versions v ON v.id = r.source_version_id").fetchall()
    holding = {rid: name for rid, name, text in rows if PHRASE in text}  # truth: the texts, read with `in`
    truth = {rid for rid, name in holding.items() if any(s in name for s in SCIENCE)}
    assert truth and len(truth) < len(holding)  # the filter has something to leave out
    assert {holding[r] for r in truth} >= {"赣州市科技局", "泉州市洛江区科学技术局"}  # both forms of the name

    page, dialogs = home(browser, url)
    page.fill("input#q", f"“{PHRASE}”")
    page.click("form.nianbao-search button[type=submit]")
    page.wait_for_selector("ol.results li.result")
    assert int(page.locator("p.count strong.total").inner_text()) == len(holding)
    page.fill("input#agency-filter", "科技局")
    page.click("form.nianbao-search button[type=submit]")
    page.wait_for_selector("p.active-filters")
    assert "科学技术局" in page.locator("p.active-filters").inner_text()
    assert int(page.locator("p.count strong.total").inner_text()) == len(truth)
    shown = {int(h.rsplit("/", 1)[1]) for h in page.locator("a.report-link").evaluate_all("a => a.map(x => x.href)")}
    assert shown == truth
    assert page.locator("li.result.earlier").count() == 0
    marks = set(page.locator("ol.results mark").all_inner_texts())
    assert marks == {PHRASE}
    page.locator("a.report-link").first.click()  # and the report holds the phrase
    page.wait_for_selector("h1.report-title")
    assert any(s in page.locator("a.agency-link").first.inner_text() for s in SCIENCE)
    assert dialogs == []


def test_subscribe_to_an_agency_from_its_page_and_read_the_feed(served, browser):  # noqa: F811
    url, data = served
    agency = "泉州市洛江区科学技术局"
    page, dialogs = home(browser, url)
    page.locator("a.region-link", has_text="福建省").click()
    page.locator("a.region-link", has_text="泉州市").click()
    page.locator("a.region-link", has_text="洛江区").click()
    page.locator("a.agency-link", has_text=agency).click()
    page.wait_for_selector("h1.agency-name")
    alternate = page.locator('head link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")
    page.locator("a.feed-link").click()
    page.wait_for_selector("section.feed-about")
    about = page.locator("section.feed-about").inner_text()
    assert "Atom 订阅源" in about and agency in about
    address = page.locator("input.feed-address").input_value()
    xml_link = page.locator("a.feed-xml")
    assert xml_link.get_attribute("href") == alternate and address == url + alternate
    with page.expect_response(lambda r: r.url == address) as answer:
        xml_link.click()
    response = answer.value
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.body())
    assert root.findtext("a:title", "", ATOM).startswith(agency)
    entries = root.findall("a:entry", ATOM)
    ids = [int(e.find("a:link", ATOM).get("href").rsplit("/", 1)[1]) for e in entries]
    years = dict(db_of(data).execute(f"SELECT r.id, r.year FROM reports r JOIN agencies a ON a.id = r.agency_id "
                                     f"WHERE a.name = ? AND r.id IN ({','.join(map(str, ids))})", [agency]).fetchall())
    assert sorted(years.values()) == sorted(e["year"] for e in EXPECTED if e["agency"] == agency)
    assert len(ids) == len(years)  # one entry per report, every one the agency's
    titles = {years[i]: e.findtext("a:title", "", ATOM) for i, e in zip(ids, entries)}
    assert "已修订" in titles[2020]  # the revision the fixture imported (test_browser.revise)
    assert all("已修订" not in t for y, t in titles.items() if y != 2020)
    assert dialogs == []
