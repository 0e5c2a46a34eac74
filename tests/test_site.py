"""The site's own pages, exports and limits, over the crawled sample archive (in-process Datasette),
and a served instance under hostile SQL."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from .conftest import EXPECTED, ROOT, copy_archive, serving
from .test_datasette import get, get_json


def db_of(data) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data / 'nianbao.db'}?mode=ro", uri=True)


def test_agency_lookup_by_any_part_of_the_name(crawled):
    _, body = get_json(crawled["data"], "/-/agency.json?q=嘉兴")
    assert [a["name"] for a in body["agencies"]] == ["嘉兴市科学技术局"]
    _, body = get_json(crawled["data"], "/-/agency.json?q=洛江区")
    assert {a["name"] for a in body["agencies"]} == {e["agency"] for e in EXPECTED if "洛江区" in e["agency"]}
    page = get(crawled["data"], "/-/agency?q=" + quote("没有这个机关"))
    assert page.status_code == 200 and "没有名称包含" in page.text


def test_agency_api_flags_carry_over_breaks(crawled):
    _, found = get_json(crawled["data"], "/-/agency.json?q=嘉兴")
    status, body = get_json(crawled["data"], f"/-/agency/{found['agencies'][0]['id']}.json")
    assert status == 200
    years = {h["year"]: h for h in body["history"]}
    for year, h in years.items():  # this year's 上年结转 against last year's 结转下年度, from the figures themselves
        last = years.get(year - 1)
        if last and last["carried_forward"] is not None and h["carried_over"] is not None:
            assert h["continuity"] == ("ok" if last["carried_forward"] == h["carried_over"] else "broken")
    assert body["breaks"] == [y for y, h in years.items() if h["continuity"] == "broken"]


def test_report_api_and_page(crawled):
    rid = db_of(crawled["data"]).execute("SELECT min(id) FROM reports").fetchone()[0]
    status, body = get_json(crawled["data"], f"/-/report/{rid}.json")
    assert status == 200 and body["report"]["id"] == rid
    assert all(v["archive_url"].endswith(v["sha256"]) for d in body["documents"] for v in d["versions"])
    page = get(crawled["data"], f"/-/report/{rid}").text
    assert "总体情况" in page  # the prose sections
    missing = get(crawled["data"], "/-/report/999999")
    assert missing.status_code == 404 and "未找到" in missing.text and "nianbao-search" in missing.text


def test_search_ranks_pages_and_counts(crawled):
    _, first = get_json(crawled["data"], "/-/search.json?q=行政复议&sort=oldest&size=20")
    _, second = get_json(crawled["data"], "/-/search.json?q=行政复议&sort=oldest&size=20&page=2")
    assert first["total"] == len(EXPECTED)
    years = [r["year"] for r in first["rows"] + second["rows"]]
    assert len(years) == 40 and years == sorted(years)
    assert not {r["report_id"] for r in first["rows"]} & {r["report_id"] for r in second["rows"]}
    _, ranked = get_json(crawled["data"], "/-/search.json?q=赣州")
    assert ranked["rows"][0]["agency"] == "赣州市科技局"
    # snippets: the passage with the term in prose, not a row of form labels
    assert all("被申请" in r["snippet"] or "行政复议" in r["snippet"] for r in first["rows"])
    _, failing = get_json(crawled["data"], "/-/search.json?q=复议&check_status=fail")
    assert {r["report_id"] for r in failing["rows"]} == {
        r[0] for r in db_of(crawled["data"]).execute("SELECT id FROM reports WHERE check_status = 'fail'")}


def test_saved_search_feed_has_absolute_links_one_entry_per_report(crawled):
    feed = get(crawled["data"], "/-/search.atom?q=" + quote("嘉兴")).text
    links = [line for line in feed.splitlines() if "<link href=" in line and "rel=" not in line]
    assert len(links) == len(set(links)) == sum(1 for e in EXPECTED if "嘉兴" in e["agency"])
    assert all("http://localhost/-/report/" in line for line in links)


def test_csv_with_bom_and_xlsx_with_chinese_headers(crawled):
    raw = get(crawled["data"], "/nianbao/most_requests.csv?year=2021&_bom=1").content
    assert raw.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(raw[3:].decode())))
    assert "发布机关 agency" in header and "存档副本 archive_url" in header
    assert not get(crawled["data"], "/nianbao/most_requests.csv?year=2021").content.startswith(b"\xef\xbb\xbf")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(get(crawled["data"], "/nianbao/report_figures.xlsx?_size=max").content))
    rows = list(book.active.values)
    assert "本年新收申请 applications_received" in rows[0] and "发布机关 agency" in rows[0]
    assert len(rows) == len(EXPECTED) + 1


def test_versions_and_runs_are_readable_summaries(crawled):
    versions = get(crawled["data"], "/nianbao/versions").text
    assert '"applications"' not in versions and "格 cells" in versions
    runs = get(crawled["data"], "/nianbao/runs").text
    assert "downloader/request_bytes" not in runs
    assert get(crawled["data"], "/").text.count("canonical_keys") == 0  # plumbing hidden from home
    assert get(crawled["data"], "/nianbao/canonical_keys").status_code == 200  # but reachable


def test_render_cell_links_reports_everywhere(crawled):
    for path in ("/nianbao/report_figures", "/nianbao/failing_checks", "/nianbao/reports",
                 "/nianbao/most_requests?year=2021"):
        assert 'href="/-/report/' in get(crawled["data"], path).text, path


def test_year_facet_sorted_by_year(crawled):
    page = get(crawled["data"], "/nianbao/report_figures?_facet=year").text
    facet = page[page.index('id="facet-year"'):]
    years = [int(y) for y in __import__("re").findall(r"year=(\d{4})", facet[:4000])]
    assert years[:6] == sorted(set(years[:6]), reverse=True)


def test_blob_inline_with_real_name_and_symlinks_refused(crawled, tmp_path):
    data = tmp_path / "archive"
    copy_archive(crawled["data"], data)
    sha, = db_of(data).execute("SELECT sha256 FROM blobs WHERE media_type = 'application/pdf' LIMIT 1").fetchone()
    response = get(data, f"/-/blob/{sha}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline;") and ".pdf" in response.headers["content-disposition"]
    assert get(data, f"/-/blob/{sha}?download=1").headers["content-disposition"].startswith("attachment;")
    path = data / "blobs" / sha[:2] / sha[2:4] / sha
    path.unlink()
    path.symlink_to("/etc/passwd")
    refused = get(data, f"/-/blob/{sha}")
    assert refused.status_code == 404 and "root:" not in refused.text
    path.unlink()
    path.mkdir()  # not a regular file either
    assert get(data, f"/-/blob/{sha}").status_code == 404


# ---------------------------------------------------------------- a served site under hostile SQL

def _tree_peak_rss_kb(pid: int) -> int:
    """VmHWM of a process and its descendants (serve may run Datasette as a child)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total


def test_hostile_sql_gets_a_clear_error_quickly_and_memory_stays_bounded(crawled, tmp_path):
    data = tmp_path / "archive"
    copy_archive(crawled["data"], data)
    with serving(data) as (url, _, process):
        before = _tree_peak_rss_kb(process.pid)
        hostile = ["select randomblob(1000000000)", "select zeroblob(2000000000)",
                   "select randomblob(3000000) from versions",
                   "select group_concat(a.text) from versions a, versions b, versions c",
                   "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"]
        for sql in hostile:
            started = time.monotonic()
            try:
                body = urllib.request.urlopen(f"{url}/nianbao.json?sql={quote(sql)}", timeout=30).read()
            except urllib.error.HTTPError as error:
                body = error.read()
            elapsed = time.monotonic() - started
            assert elapsed < 8, (sql, elapsed)  # 3 s time limit, on a loaded 2-core machine
            assert len(body) < 1_000_000, sql
            assert any(words in body for words in (b"too big", b"too large", b"interrupted", b"out of memory",
                                                   b"took too long", b"busy")), (sql, body[:300])
        assert urllib.request.urlopen(url + "/-/report/1").status == 200  # still up
        assert _tree_peak_rss_kb(process.pid) - before < 300_000, "a hostile query grew the server by 300 MB"


def test_exports_carry_archive_url_beside_source_url(crawled):
    for record in crawled["records"]:
        if record.get("source", {}).get("sha256"):
            assert record["url"].startswith("http") and record["archive_url"].endswith("/-/blob/" + record["source"]["sha256"])


def test_sitemap_lists_every_report_page_and_robots_keep_off_sql(crawled):
    sitemap = get(crawled["data"], "/sitemap.xml").text
    assert sitemap.count("/-/report/") == len(EXPECTED)
    robots = get(crawled["data"], "/robots.txt").text
    assert "Disallow: /nianbao?" in robots and "Sitemap: " in robots


def test_common_word_paths_give_the_same_pages(crawled, monkeypatch):
    """Past COUNT_CAP the year sort probes the index row by row: same pages as the set-based plan."""
    from archive import search

    conn = db_of(crawled["data"])
    expected = {sort: [r["report_id"] for p in (1, 2) for r in search.search_page(conn, "复议", sort=sort, page=p, limit=20).rows]
                for sort in ("newest", "oldest")}
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    for sort, ids in expected.items():
        result = [search.search_page(conn, "复议", sort=sort, page=p, limit=20) for p in (1, 2)]
        assert result[0].capped and result[0].total == 5
        assert [r["report_id"] for page in result for r in page.rows] == ids


def _versions_everywhere(data, rid: int) -> dict:
    """The report's version count as the export, the JSON APIs, the page and the feed show it."""
    exported = [json.loads(line) for line in subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "export", "--data", str(data)], cwd=ROOT, capture_output=True,
        text=True, check=True).stdout.splitlines()]
    _, body = get_json(data, f"/-/report/{rid}.json")
    _, agency = get_json(data, f"/-/agency/{body['report']['agency_id']}.json")
    feed = get(data, "/-/feed.atom").text
    title = body["report"]["title"]
    return {"export": next(r["versions"] for r in exported
                           if (r["agency"], r["year"], r["title"]) == (body["report"]["agency"], body["report"]["year"], title)),
            "api": body["report"]["versions"], "api_revised": body["report"]["revised"],
            "agency": next(h["versions"] for h in agency["history"] if h["report_id"] == rid),
            "badge": 'id="revised-badge"' in get(data, f"/-/report/{rid}").text,
            "feed_revised": f"<title>{title}（已修订" in feed}


def test_versions_count_the_reports_contents_not_its_documents(crawled, tmp_path):
    """Issue 12: a page and its PDF that never changed are one version; a changed document makes two."""
    from .test_browser import revise

    data = tmp_path / "archive"
    copy_archive(crawled["data"], data)
    db = db_of(data)
    unchanged = db.execute("SELECT d.report_id FROM documents d JOIN versions v ON v.document_id = d.id "
                           "GROUP BY d.report_id HAVING count(DISTINCT d.id) >= 2 AND count(*) = count(DISTINCT d.id) "
                           "AND sum(d.role = 'attachment') >= 1 LIMIT 1").fetchone()[0]
    assert _versions_everywhere(data, unchanged) == {"export": 1, "api": 1, "api_revised": False, "agency": 1,
                                                     "badge": False, "feed_revised": False}
    (tmp_path / "revision").mkdir()
    revise(data, tmp_path / "revision")
    revised = db_of(data).execute("SELECT r.id FROM reports r JOIN agencies a ON a.id = r.agency_id "
                                  "WHERE a.name = '泉州市洛江区科学技术局' AND r.year = 2020").fetchone()[0]
    assert _versions_everywhere(data, revised) == {"export": 2, "api": 2, "api_revised": True, "agency": 2,
                                                   "badge": True, "feed_revised": True}
