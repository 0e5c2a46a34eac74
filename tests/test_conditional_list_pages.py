"""The nightly pass asks for list pages conditionally (#30): a page the server answers 304 is read from the archive,
a changed page is read as sent, and a column's new report is found either way.

Truth is the sample portal's own log (what was asked, with which validators, and what it answered), the pages as
this test edits them, and the WARC files read with warcio; the rotation is written here again from its statement."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from sampleportal.server import Portal

from .conftest import FAST, ROOT, copy_archive, nianbao

SITE = ROOT / "sampleportal" / "site"
COLUMN = "/zwgk/zfxxgkzl/bmzfxxgk/kxjsj/zfxxgkndbg/"  # a TRS column: createPageHTML(2, …), index.html and index_1.html
PAGES = (COLUMN, COLUMN + "index_1.html")
NEW_ARTICLE = COLUMN + "202602/t20260206_3000001.htm"
REGISTRY = ("sites:\n  - id: kxjsj\n    name: 泉州市洛江区科学技术局\n    region: 福建省/泉州市/洛江区\n    cms: trs\n"
            f"    start_urls: ['${{PORTAL}}{COLUMN}']\n")
EVERY = 30  # NIANBAO_RECHECK_DAYS as shipped


def _due(url: str, day: date) -> bool:
    return zlib.crc32(url.encode("utf-8")) % EVERY == day.toordinal() % EVERY


def _night(portal_url: str, column_due: bool) -> date:
    """A night on which the column's list pages are (or are not) due to be asked in full, nor any of its reports."""
    reports = [portal_url + COLUMN + p for p in ("202002/t20200207_2330508.htm", "202102/t20210206_2489926.htm",
                                                 "202201/t20220123_2366240.htm", "202302/t20230224_2292068.htm",
                                                 "202401/t20240121_2281923.htm", "202502/t20250224_2786525.htm")]
    nights = (date(2026, 12, 1) + timedelta(days=n) for n in range(EVERY))
    return next(d for d in nights if _due(portal_url + COLUMN, d) == column_due and not any(_due(u, d) for u in reports))


@pytest.fixture
def column(tmp_path):
    """The column served from a copy of the sample portal's files, crawled once."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    registry = tmp_path / "sites.yml"
    registry.write_text(REGISTRY, encoding="utf-8")
    data = tmp_path / "data"
    with Portal(site=site) as portal:
        first = crawl(registry, portal, data, date(2026, 12, 1))
        yield {"site": site, "registry": registry, "data": data, "portal": portal, "first": first}


def crawl(registry: Path, portal: Portal, data: Path, night: date) -> dict:
    start = len(portal.state.log)
    result = nianbao("crawl", "--sites", registry, "--portal-url", portal.url, "--data", data, "--no-extract",
                     "-s", f"NIANBAO_RECHECK_DATE={night.isoformat()}", *FAST)
    return {"summary": json.loads(result.stdout), "hits": portal.state.log[start:]}


def answers(run: dict, path: str) -> list[tuple[int, bool]]:
    return [(h.status, h.conditional) for h in run["hits"] if h.path == path]


def add_a_report(site: Path) -> None:
    """The column publishes its 2025 report: a new article (the 2023 one's page, retitled) listed first."""
    folder = site / COLUMN.strip("/")
    old = (folder / "202401" / "t20240121_2281923.htm").read_bytes()
    (folder / "202602").mkdir()
    (folder / "202602" / "t20260206_3000001.htm").write_bytes(
        old.replace("2023年政府信息公开工作年度报告".encode("gb2312"), "2025年政府信息公开工作年度报告".encode("gb2312")))
    listing = folder / "index.html"
    first_item = '<ul class="list"><li>'.encode("gb2312")
    item = ('<ul class="list"><li><a href="./202602/t20260206_3000001.htm" target="_blank" title="泉州市洛江区科学技术局'
            '2025年政府信息公开工作年度报告">泉州市洛江区科学技术局2025年政府信息公开工作年度报告</a><span>2026-02-06</span></li>'
            '<li>').encode("gb2312")
    html = listing.read_bytes()
    assert html.count(first_item) == 1
    listing.write_bytes(html.replace(first_item, item))


def warc_records(data: Path, url: str) -> list[tuple[str, str | None]]:
    """(WARC-Type, WARC-Profile) of every response and revisit record of ``url``, read from the WARC files."""
    found = []
    for path in sorted((data / "warcs").glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_headers.get_header("WARC-Target-URI") == url and record.rec_type != "request":
                    found.append((record.rec_type, record.rec_headers.get_header("WARC-Profile")))
    return found


def test_an_unchanged_column_is_answered_304_and_read_from_the_archive(column):
    portal, first = column["portal"], column["first"]
    assert [answers(first, p) for p in PAGES] == [[(200, False)], [(200, False)]]
    second = crawl(column["registry"], portal, column["data"], _night(portal.url, column_due=False))
    assert [answers(second, p) for p in PAGES] == [[(304, True)], [(304, True)]]
    assert {h.path for h in second["hits"]} == {*PAGES, "/robots.txt"}  # every known report waits for its night
    assert second["summary"]["reports_found"] == first["summary"]["reports_found"] == 6
    assert second["summary"]["known"] == 6 and second["summary"]["new_versions"] == 0
    # the page's bytes are in the WARC once; the night it did not change is a revisit record pointing at them
    assert warc_records(column["data"], portal.url + COLUMN + "index_1.html") == [
        ("response", None), ("revisit", "http://netpreserve.org/warc/1.1/revisit/server-not-modified")]


def test_a_changed_list_page_is_read_as_sent_and_its_new_report_fetched(column):
    portal = column["portal"]
    add_a_report(column["site"])
    second = crawl(column["registry"], portal, column["data"], _night(portal.url, column_due=False))
    assert [answers(second, p) for p in PAGES] == [[(200, True)], [(304, True)]]  # asked with validators; changed
    assert answers(second, NEW_ARTICLE) == [(200, False)]
    assert second["summary"]["reports_found"] == 7 and second["summary"]["known"] == 6
    db = sqlite3.connect(column["data"] / "nianbao.db")
    assert db.execute("SELECT r.year FROM reports r JOIN documents d ON d.report_id = r.id WHERE d.url = ?",
                      [portal.url + NEW_ARTICLE]).fetchall() == [(2025,)]
    third = crawl(column["registry"], portal, column["data"], _night(portal.url, column_due=False))
    assert [answers(third, p) for p in PAGES] == [[(304, True)], [(304, True)]]  # the changed page, kept in turn
    assert third["summary"]["reports_found"] == 7 and third["summary"]["known"] == 7


def test_on_its_night_of_the_rotation_a_column_is_asked_in_full(column):
    portal = column["portal"]
    second = crawl(column["registry"], portal, column["data"], _night(portal.url, column_due=True))
    assert [answers(second, p) for p in PAGES] == [[(200, False)], [(200, False)]]
    assert second["summary"]["reports_found"] == 6


def test_a_kept_page_the_archive_lost_is_asked_again_in_full(column, tmp_path):
    portal, data = column["portal"], copy_archive(column["data"], tmp_path / "lost")
    sha256 = sqlite3.connect(data / "nianbao.db").execute(
        "SELECT sha256 FROM list_pages WHERE url = ?", [portal.url + COLUMN + "index_1.html"]).fetchone()[0]
    (data / "blobs" / sha256[:2] / sha256[2:4] / sha256).unlink()
    second = crawl(column["registry"], portal, data, _night(portal.url, column_due=False))
    assert [answers(second, p) for p in PAGES] == [[(304, True)], [(304, True), (200, False)]]
    assert second["summary"]["reports_found"] == 6 and second["summary"]["known"] == 6


def test_a_kept_page_s_blob_has_an_allow_listed_type_whatever_the_server_said(tmp_path):
    """Everything crawled is hostile: a list page sent as image/svg+xml is kept, but never as a type the site would
    hand a browser to run (archive/media.py's allow-list); the server's label stays with the page to read it again."""
    from archive.store import Archive

    archive = Archive(tmp_path / "data")
    body = b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    archive.keep_list_page(url="http://x.gov.cn/ndbg/", site_id="x", body=body, media_type="image/svg+xml",
                           charset=None, etag='"1"', last_modified=None, exchange=None, seen="2026-12-07T00:00:00+00:00")
    assert archive.db.execute("SELECT media_type FROM blobs").fetchall() == [("application/octet-stream",)]
    assert archive.list_page("http://x.gov.cn/ndbg/")["media_type"] == "image/svg+xml"
    assert archive.list_page_body("http://x.gov.cn/ndbg/")[0] == body
