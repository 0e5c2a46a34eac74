"""Real-portal behaviour through the real Scrapy engine (the `nianbao crawl` command in a child
process), against small portals built here from what real platforms serve, and the sample portal.
Each test names the behaviour; each fails when the crawler's handling of it is removed."""

from __future__ import annotations

import gzip
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest
import yaml

from sampleportal.server import Portal

from .conftest import EXPECTED, FAST, ROOT, SAMPLE_SITES, copy_archive, nianbao

ARTICLE = """<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<table class="xxgk_table"><tr><th>发布机构：</th><td>{agency}</td><th>成文日期：</th><td>2024-01-20</td></tr></table>
<div class="TRS_Editor"><p>{title}</p><p>一、总体情况。本机关2023年主动公开政府信息。</p>{extra}</div></body></html>"""


def page(title, agency="某县人民政府", extra=""):
    return ARTICLE.format(title=title, agency=agency, extra=extra)


class MiniPortal:
    """A portal written for one test: files under site/, dynamic answers in routes.json."""

    def __init__(self, tmp_path, files: dict, routes: dict | None = None, stall: float = 3.0):
        self.dir = tmp_path / "portal"
        for path, content in files.items():
            target = self.dir / "site" / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        (self.dir / "site" / "robots.txt").write_text("User-agent: *\nDisallow:\n")
        (self.dir / "routes.json").write_text(json.dumps(routes or {}), encoding="utf-8")
        self.portal = Portal(site=self.dir / "site", routes=self.dir / "routes.json", stall=stall)

    def __enter__(self):
        self.portal.start()
        return self

    def __exit__(self, *exc):
        self.portal.stop()

    def registry(self, tmp_path, start: str, **extra) -> str:
        entry = {"id": "mini", "name": "某县人民政府", "region": "福建省/泉州市/某县",
                 "start_urls": ["${PORTAL}" + start], **extra}
        path = tmp_path / "sites.yml"
        path.write_text(yaml.safe_dump({"sites": [entry]}, allow_unicode=True), encoding="utf-8")
        return str(path)

    def crawl(self, tmp_path, start, *settings, check=True, data=None, **extra):
        data = data or tmp_path / "data"
        result = nianbao("crawl", "--sites", self.registry(tmp_path, start, **extra), "--portal-url", self.portal.url,
                         "--data", data, "--no-extract", *FAST, *settings, check=check)
        return result, data


def rows(data, sql, params=()):
    return sqlite3.connect(data / "nianbao.db").execute(sql, params).fetchall()


def summary_of(result):
    return json.loads(result.stdout[result.stdout.index("{"):])


# ---------------------------------------------------------------------------- paging


def test_jpage_column_is_paged_by_post_groups(crawled):
    """jcms: records after the first group come only from POSTs to dataproxy.jsp (startrecord/endrecord)."""
    posts = [h for h in crawled["hits"] if h.method == "POST" and "dataproxy.jsp" in h.path]
    assert [h.path.split("?")[1] for h in posts] == ["startrecord=5&endrecord=8&perpage=2"]
    got = {r["year"] for r in crawled["records"] if r["agency"] == "绍兴市教育局"}
    assert got == {e["year"] for e in EXPECTED if e["column"] == "shaoxing-jyj"}


def test_six_argument_create_page_html_column_read_to_its_last_page(crawled):
    trs6 = [h.path for h in crawled["hits"] if h.path.startswith("/zwgk/fzq/fgj/ndbg/index")]
    assert sorted(trs6) == ["/zwgk/fzq/fgj/ndbg/index_2.shtml", "/zwgk/fzq/fgj/ndbg/index_3.shtml"]
    assert Counter(r["agency"] for r in crawled["records"])["泉州市丰泽区发展和改革局"] == 5


def test_download_servlet_attachment_identified_by_what_the_server_says(crawled):
    """downfile.jsp?fileid=N linked as 附件1, sent as application/octet-stream: the bytes and
    Content-Disposition say what it is and what it is called."""
    docs = rows(crawled["data"], "SELECT d.format, json_extract(d.metadata, '$.filename'), b.media_type FROM documents d "
                "JOIN versions v ON v.document_id = d.id JOIN blobs b ON b.sha256 = v.sha256 WHERE d.url LIKE '%downfile.jsp?classid=0&fileid=%'")
    assert len(docs) == 4
    for fmt, filename, media_type in docs:
        assert filename.startswith("20") and filename.endswith("年度政府信息公开工作年度报告." + fmt)
        assert media_type != "application/octet-stream"


def test_recrawl_of_the_whole_portal_adds_nothing_and_every_report_has_one_version(crawled, portal, tmp_path):
    data = tmp_path / "again"
    copy_archive(crawled["data"], data)
    before = rows(data, "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM versions), (SELECT count(*) FROM agencies)")
    summary = json.loads(nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data,
                                 "--no-extract", *FAST).stdout)
    assert summary["new_versions"] == 0
    assert rows(data, "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM versions), (SELECT count(*) FROM agencies)") == before
    exported = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    assert len(exported) == len(EXPECTED) and {r["versions"] for r in exported} == {1}


def test_report_without_agency_in_its_title_is_one_report_after_three_crawls(portal, tmp_path):
    registry = yaml.safe_load(SAMPLE_SITES.read_text(encoding="utf-8"))
    registry["sites"] = [s for s in registry["sites"] if s["id"] == "shaoxing-jyj"]
    registry["sites"][0]["name"] = "绍兴市教育局（注册表）"
    sites = tmp_path / "sites.yml"
    sites.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "three"
    for _ in range(3):
        nianbao("crawl", "--sites", sites, "--portal-url", portal.url, "--data", data, "--no-extract", *FAST)
    reports = rows(data, "SELECT a.name, r.year FROM reports r JOIN agencies a ON a.id = r.agency_id")
    assert sorted(reports) == [("绍兴市教育局", y) for y in range(2019, 2025)]  # the metadata's 发布机构
    assert rows(data, "SELECT count(*) FROM agencies") == [(1,)]
    attachments = sum(1 for e in EXPECTED if e["column"] == "shaoxing-jyj" and e["format"] != "html")
    assert rows(data, "SELECT count(*), count(DISTINCT report_id) FROM documents") == [(6 + attachments, 6)]


# ---------------------------------------------------------------------------- coverage and bounds


def test_coverage_shortfall_is_a_warning_naming_the_column(tmp_path):
    """A TRS column declares 9 records on 3 pages; its third page is gone (404)."""
    def items(n):
        return "".join(f'<li><a href="./a{n}{i}.html">某县人民政府{2010 + n * 3 + i}年政府信息公开工作年度报告</a></li>'
                       for i in range(2))
    files = {f"/ndbg/{'index' if n == 0 else f'index_{n + 1}'}.shtml":
             f"<ul>{items(n)}</ul><script>createPageHTML('page_div',3,{n + 1},'index','shtml',9);</script>"
             for n in range(2)}
    files.update({f"/ndbg/a{n}{i}.html": page(f"某县人民政府{2010 + n * 3 + i}年政府信息公开工作年度报告")
                  for n in range(2) for i in range(2)})
    with MiniPortal(tmp_path, files) as mini:
        result, data = mini.crawl(tmp_path, "/ndbg/index.shtml")
    summary = summary_of(result)
    assert summary["sites"]["mini"]["coverage"] == "found 4 of 9"
    assert any("mini: " in w and "/ndbg/index.shtml: found 4 of 9 items" in w for w in summary["warnings"])
    assert "found 4 of 9 items the column declares" in result.stderr
    assert rows(data, "SELECT count(*) FROM fetches WHERE outcome = 'coverage_short' AND reason LIKE 'found 4 of 9%'") == [(1,)]


def test_a_known_report_not_due_is_asked_again_when_its_title_changed_or_its_file_failed(tmp_path):
    """The nightly pass's exceptions to the rotation (NIANBAO_RECHECK_DAYS): on a night none of three known reports
    is due, the one whose PDF failed (503) last time is asked again with its PDF, the one the list shows under a new
    title is asked again, and the third is not asked at all (counted known)."""
    import zlib
    from datetime import date, timedelta

    title = "某县人民政府{}年政府信息公开工作年度报告"
    listed = {1: title.format(2021), 2: title.format(2022), 3: title.format(2023)}

    def column():
        return "<ul>" + "".join(f'<li><a href="./a{n}.html">{t}</a></li>' for n, t in listed.items()) + "</ul>"

    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    files = {"/ndbg/index.html": column(), "/ndbg/a1.pdf": pdf, "/ndbg/a2.pdf": pdf}
    files.update({f"/ndbg/a{n}.html": page(t, extra=f'<p><a href="./a{n}.pdf">附件</a></p>' if n < 3 else "")
                  for n, t in listed.items()})
    failing = {"/ndbg/a2.pdf": {"file": "ndbg/a2.pdf", "type": "application/pdf", "status": 503}}
    with MiniPortal(tmp_path, files, routes=failing) as mini:
        urls = [f"{mini.portal.url}/ndbg/a{n}.html" for n in listed]
        night = next(day for day in (date(2026, 12, 1) + timedelta(days=n) for n in range(60))
                     if all(zlib.crc32(u.encode()) % 30 != day.toordinal() % 30 for u in urls))
        first, data = mini.crawl(tmp_path, "/ndbg/index.html", "-s", "RETRY_TIMES=0", check=False)
        assert rows(data, "SELECT status FROM fetches WHERE url LIKE '%/a2.pdf'") == [(503,)]
        mini.portal.state.routes.clear()  # the PDF answers now
        listed[3] = "某县人民政府2023年度政府信息公开工作年度报告（修订）"
        (mini.dir / "site" / "ndbg" / "index.html").write_text(column(), encoding="utf-8")
        start = len(mini.portal.state.log)
        second, _ = mini.crawl(tmp_path, "/ndbg/index.html", "-s", f"NIANBAO_RECHECK_DATE={night}", data=data)
        hits = {h.path: h.status for h in mini.portal.state.log[start:]}
    assert {p: s for p, s in hits.items() if p.startswith("/ndbg/a")} == \
        {"/ndbg/a2.html": 304, "/ndbg/a2.pdf": 200, "/ndbg/a3.html": 304}
    site = summary_of(second)["sites"]["mini"]
    assert (site["known"], site["reports_found"], site["new_versions"]) == (1, 3, 1)


def test_a_sites_coverage_compares_the_declaring_columns_items_with_what_they_declare(tmp_path):
    """A site of three columns (every discovered portal has many): A declares 9 records and 4 are read (its third
    page is gone), B declares 2 and 2 are read, C declares nothing and lists 3. The site's figure is 6 of 11, like
    with like: C's items are not set against a size C never stated (which would read "9 of 11" and hide A's gap)."""
    def item(folder, n):
        return f'<li><a href="./a{n}.html">某县人民政府{2000 + n}年政府信息公开工作年度报告</a></li>'

    files = {f"/a/{'index' if n == 0 else f'index_{n + 1}'}.shtml":
             f"<ul>{item('a', 2 * n)}{item('a', 2 * n + 1)}</ul>"
             f"<script>createPageHTML('page_div',3,{n + 1},'index','shtml',9);</script>" for n in range(2)}
    files["/b/index.shtml"] = (f"<ul>{item('b', 10)}{item('b', 11)}</ul>"
                               "<script>createPageHTML('page_div',1,0,'index','shtml',2);</script>")
    files["/c/index.html"] = f"<ul>{item('c', 20)}{item('c', 21)}{item('c', 22)}</ul>"
    for folder, numbers in (("a", range(4)), ("b", (10, 11)), ("c", (20, 21, 22))):
        files.update({f"/{folder}/a{n}.html": page(f"某县人民政府{2000 + n}年政府信息公开工作年度报告") for n in numbers})
    with MiniPortal(tmp_path, files) as mini:
        result, _ = mini.crawl(tmp_path, "/a/index.shtml",
                               start_urls=["${PORTAL}/a/index.shtml", "${PORTAL}/b/index.shtml", "${PORTAL}/c/index.html"])
    site = summary_of(result)["sites"]["mini"]
    assert (site["listed"], site["declared"], site["columns"]) == (9, 11, 3)
    assert site["coverage"] == "found 6 of 11"
    assert site["coverage_short"] == 1  # column A's own warning


def test_endless_next_chain_and_a_five_million_page_pager_stop_at_the_bound(tmp_path):
    files = {f"/chain/p{n}.html": f'<ul><li><a href="x{n}.html">通知{n}</a></li></ul><div class="page"><a href="p{n + 1}.html">下一页</a></div>'
             for n in range(40)}
    for n in range(10):  # a pager declaring five million pages, the pages going on as far as it is read
        files[f"/trs/{'index' if n == 0 else f'index_{n}'}.html"] = (
            f'<ul><li><a href="x.html">通知</a></li></ul><script>createPageHTML(5000000, {n}, "index", "html");</script>')
    with MiniPortal(tmp_path, files) as mini:
        started = time.monotonic()
        result, data = mini.crawl(tmp_path, "/chain/p0.html", "-s", "NIANBAO_MAX_LIST_PAGES_PER_COLUMN=5", check=False)
        chain = [h.path for h in mini.portal.state.log if h.path.startswith("/chain/p")]
        result2, data2 = mini.crawl(tmp_path, "/trs/index.html", "-s", "NIANBAO_MAX_LIST_PAGES_PER_COLUMN=3",
                                    check=False, data=tmp_path / "trs")
        elapsed = time.monotonic() - started
    assert len(chain) == 5
    summary = summary_of(result)
    assert summary["bounds_hit"] == {"NIANBAO_MAX_LIST_PAGES_PER_COLUMN": 5}
    assert any("stopped at the bound of 5 list pages per column" in w for w in summary["warnings"])
    assert rows(data, "SELECT count(*) FROM fetches WHERE outcome = 'bounded'") == [(1,)]
    trs = summary_of(result2)
    assert trs["bounds_hit"] == {"NIANBAO_MAX_LIST_PAGES_PER_COLUMN": 3}
    assert rows(data2, "SELECT count(*) FROM fetches WHERE url LIKE '%/trs/index%' AND outcome = 'fetched'") == [(3,)]
    assert any("found 3 of 5000000 list pages" in w for w in trs["warnings"])
    assert elapsed < 60


def test_requests_per_run_bound_closes_the_crawl_and_is_recorded(tmp_path):
    files = {f"/chain/p{n}.html": f'<ul><li><a href="x{n}.html">通知</a></li></ul><a href="p{n + 1}.html">下一页</a>'
             for n in range(40)}
    with MiniPortal(tmp_path, files) as mini:
        result, data = mini.crawl(tmp_path, "/chain/p0.html", "-s", "NIANBAO_MAX_REQUESTS=7", check=False)
        fetched = [h for h in mini.portal.state.log if h.path.startswith("/chain/")]
    assert len(fetched) <= 8
    assert summary_of(result)["bounds_hit"] == {"requests_per_run": 7}
    assert rows(data, "SELECT count(*) FROM fetches WHERE outcome = 'bounded'") == [(1,)]


# ---------------------------------------------------------------------------- links, files, redirects


def test_links_no_crawler_can_follow_are_logged_and_the_page_goes_on(tmp_path):
    long = "/x?" + "a" * 3000
    listing = ('<ul><li><a href="javascript:void(0)">某县人民政府2019年政府信息公开工作年度报告.pdf</a></li>'
               '<li><a href="tel:0595-12345">某县人民政府2020年政府信息公开工作年度报告</a></li>'
               '<li><a href="mailto:gk@x.gov.cn">某县人民政府2021年政府信息公开工作年度报告</a></li>'
               f'<li><a href="{long}">某县人民政府2022年政府信息公开工作年度报告</a></li>'
               '<li><a href="http://[::1">某县人民政府2018年政府信息公开工作年度报告</a></li>'
               '<li><a href="a.html">某县人民政府2023年政府信息公开工作年度报告</a></li></ul>')
    extra = '<p><a href="javascript:void(0)">年报全文.pdf</a> <a href="ndbg.pdf">附件1</a></p>'
    pdf = sorted((ROOT / "sampleportal" / "site").glob("**/*.pdf"))
    files = {"/ndbg/index.html": listing, "/ndbg/a.html": page("某县人民政府2023年政府信息公开工作年度报告", extra=extra),
             "/ndbg/ndbg.pdf": pdf[0].read_bytes()}
    with MiniPortal(tmp_path, files) as mini:
        result, data = mini.crawl(tmp_path, "/ndbg/index.html")
    skipped = rows(data, "SELECT reason FROM fetches WHERE outcome = 'skipped_link'")
    assert sorted(r for (r,) in skipped) == sorted(["javascript: link", "javascript: link", "tel: link", "mailto: link",
                                                    "link longer than 2083 characters",
                                                    next(r for (r,) in skipped if r.startswith("malformed"))])
    assert rows(data, "SELECT count(*) FROM documents") == [(2,)]  # the report page and its real PDF
    assert summary_of(result)["skipped_links"] == 6  # five in the list, one "年报全文.pdf" on the article


def test_gzip_bomb_is_too_large_and_a_redirect_to_file_is_refused_and_telnet_is_off(tmp_path):
    bomb = gzip.compress(b"\0" * 5_000_000)
    extra = '<p><a href="/bomb.pdf">附件1</a> <a href="/go.jsp?f=1">附件2</a></p>'
    files = {"/ndbg/index.html": '<ul><li><a href="a.html">某县人民政府2023年政府信息公开工作年度报告</a></li></ul>',
             "/ndbg/a.html": page("某县人民政府2023年政府信息公开工作年度报告", extra=extra), "/bomb.bin": bomb}
    routes = {"/bomb.pdf": {"file": "bomb.bin", "type": "application/pdf", "referer": None, "delivery": "raw-gzip"},
              "/go.jsp?f=1": {"status": 302, "location": "file:///etc/passwd", "referer": None}}
    with MiniPortal(tmp_path, files, routes) as mini:
        result, data = mini.crawl(tmp_path, "/ndbg/index.html", "-s", "DOWNLOAD_MAXSIZE=1000000", "-s", "LOG_LEVEL=INFO")
    outcomes = dict(rows(data, "SELECT url, outcome || ': ' || reason FROM fetches WHERE url NOT LIKE '%robots.txt'"))
    bomb_row = next(v for k, v in outcomes.items() if k.endswith("/bomb.pdf"))
    assert bomb_row.startswith("too_large: decompressed body larger than download max size (1000000)")
    go_row = next(v for k, v in outcomes.items() if k.endswith("/go.jsp?f=1"))
    assert go_row == "refused: redirect to file:///etc/passwd: scheme 'file' is not crawled"
    assert "Telnet" not in result.stderr and "6023" not in result.stderr  # nothing listens during a crawl


# ---------------------------------------------------------------------------- hosts, registry, signals


def test_host_policy_registrable_domain_and_allowed_hosts():
    from crawler.hosts import refusal

    site = {"start_urls": ["http://www.qzlj.gov.cn/zwgk/"], "allowed_hosts": ["files.fjzwfw.gov.cn"]}
    assert refusal("http://qzlj.gov.cn/zwgk/", site) is None  # bare-domain redirect
    assert refusal("https://www.qzlj.gov.cn/a.pdf", site) is None
    assert refusal("http://files.fjzwfw.gov.cn/1.pdf", site) is None  # listed by the entry
    assert "not the registry entry's" in refusal("http://www.quanzhou.gov.cn/x", site)  # gov.cn is a public suffix
    assert "not crawled" in refusal("file:///etc/passwd", site)
    assert "not the registry entry's" in refusal("http://10.0.0.1/", site)
    assert "private" in refusal("http://10.0.0.1/", {"start_urls": ["http://x.gov.cn/"], "allowed_hosts": ["10.0.0.1"]})


def test_a_bad_registry_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("sites:\n  - id: ok-site\n    name: 某局\n    start_urls: [ftp://x.gov.cn/]\n", encoding="utf-8")
    result = nianbao("crawl", "--sites", bad, "--data", tmp_path / "d", check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert str(bad) in line and "entry 1 (ok-site)" in line and "not an http(s) URL" in line


@pytest.mark.parametrize("signals_sent", [1, 2])
def test_sigint_stops_a_crawl_gracefully_and_a_second_at_once(tmp_path, signals_sent):
    files = {f"/chain/p{n}.html": f'<ul><li><a href="x{n}.html">通知</a></li></ul><a href="p{n + 1}.html">下一页</a>'
             for n in range(400)}
    # the fourth page answers only after 20 s: a graceful stop waits for it, a second SIGINT does not
    routes = {"/chain/p3.html": {"file": "chain/p3.html", "type": "text/html", "referer": None, "delivery": "stall"}}
    with MiniPortal(tmp_path, files, routes, stall=20) as mini:
        sites = mini.registry(tmp_path, "/chain/p0.html")
        env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
        child = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "crawl", "--sites", sites, "--portal-url",
                                  mini.portal.url, "--data", str(tmp_path / "d"), "--no-extract", "-s", "DOWNLOAD_DELAY=0.3",
                                  "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while len([h for h in mini.portal.state.log if h.path.startswith("/chain/")]) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # the fourth page is being fetched
        for _ in range(signals_sent):
            child.send_signal(signal.SIGINT)
            time.sleep(0.5)
        sent = time.monotonic()
        out, err = child.communicate(timeout=30)
        took = time.monotonic() - sent
        pages = len([h for h in mini.portal.state.log if h.path.startswith("/chain/")])
    assert pages < 100  # it stopped, long before the chain's end
    assert "shutting down gracefully" in err
    if signals_sent == 1:
        assert took < 40  # it waited for the stalled page, then closed the run
        assert rows(tmp_path / "d", "SELECT status FROM runs") == [("stopped",)]
    else:
        assert "forcing unclean shutdown" in err and took < 8


def test_bare_domain_redirect_to_www_is_followed_and_other_domains_still_refused(tmp_path):
    """Portals answer their bare domain with a 301 to www.: one site, by registrable domain."""
    with Portal(canonical_host="www.nianbao-portal.test") as named:
        port = named.url.rsplit(":", 1)[1]
        registry = yaml.safe_load(SAMPLE_SITES.read_text(encoding="utf-8"))
        registry["sites"] = [s for s in registry["sites"] if s["id"] == "fengze-fgj"]
        registry["sites"][0]["start_urls"] = [f"http://nianbao-portal.test:{port}/zwgk/fzq/fgj/ndbg/"]
        sites = tmp_path / "sites.yml"
        sites.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
        data = tmp_path / "named"
        nianbao("crawl", "--sites", sites, "--data", data, "--no-extract", *FAST,
                "-s", "TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver")
        hits = list(named.state.log)
    assert [h.status for h in hits if h.path == "/zwgk/fzq/fgj/ndbg/"][:1] == [301]
    urls = [u for (u,) in rows(data, "SELECT url FROM documents")]
    assert len(urls) == 5 + 2 and all(u.startswith(f"http://www.nianbao-portal.test:{port}/") for u in urls)
    assert rows(data, "SELECT count(*) FROM reports") == [(5,)]
    assert rows(data, "SELECT count(*) FROM fetches WHERE outcome = 'refused'") == [(0,)]


def test_a_list_page_past_the_last_that_refreshes_to_the_home_page_ends_the_column(tmp_path):
    """TRS answers a list page that no longer exists with a meta refresh to the portal's home page;
    the home page's links are not the column's items."""
    files = {"/ndbg/index.html": '<ul><li><a href="a.html">某县人民政府2023年政府信息公开工作年度报告</a></li></ul>'
                                 '<div class="page"><a href="index_1.html">下一页</a></div>',
             "/ndbg/index_1.html": (ROOT / "tests" / "files" / "cms" / "trs_meta_refresh.html").read_text(),
             "/index.html": '<ul><li><a href="/other/b.html">某县人民政府2022年政府信息公开工作年度报告</a></li></ul>',
             "/ndbg/a.html": page("某县人民政府2023年政府信息公开工作年度报告"),
             "/other/b.html": page("某县人民政府2022年政府信息公开工作年度报告")}
    with MiniPortal(tmp_path, files) as mini:
        result, data = mini.crawl(tmp_path, "/ndbg/index.html")
    assert rows(data, "SELECT year FROM reports") == [(2023,)]
    (reason,) = rows(data, "SELECT reason FROM fetches WHERE outcome = 'column_end'")
    assert "meta refresh" in reason[0] and "the column ends here" in reason[0]


def test_items_per_column_bound(tmp_path):
    listing = "".join(f'<li><a href="n{i}.html">通知{i}</a></li>' for i in range(10))
    with MiniPortal(tmp_path, {"/ndbg/index.html": f"<ul>{listing}</ul>"}) as mini:
        result, data = mini.crawl(tmp_path, "/ndbg/index.html", "-s", "NIANBAO_MAX_ITEMS_PER_COLUMN=3", check=False)
    summary = summary_of(result)
    assert summary["bounds_hit"] == {"NIANBAO_MAX_ITEMS_PER_COLUMN": 3}
    assert summary["sites"]["mini"]["skipped"] == 3 and summary["sites"]["mini"]["bounded"] == 1


def test_a_page_whose_charset_is_only_in_the_http_header(tmp_path):
    title = "某县人民政府2023年政府信息公开工作年度报告"
    listing = f'<html><body><ul><li><a href="a.html">{title}</a></li></ul></body></html>'.encode("gbk")
    article = page(title).replace('<meta charset="utf-8">', "").encode("gbk")
    gbk = {"type": "text/html; charset=GBK", "referer": None}
    routes = {"/ndbg/list.jsp": {"file": "ndbg/list.bin", **gbk}, "/ndbg/a.html": {"file": "ndbg/a.bin", **gbk}}
    with MiniPortal(tmp_path, {"/ndbg/list.bin": listing, "/ndbg/a.bin": article}, routes) as mini:
        result, data = mini.crawl(tmp_path, "/ndbg/list.jsp")
    assert rows(data, "SELECT r.title, a.name FROM reports r JOIN agencies a ON a.id = r.agency_id") == [(title, "某县人民政府")]
    assert rows(data, "SELECT json_extract(metadata, '$.charset') FROM documents") == [("gb18030",)]


def test_export_versions_counts_the_reports_contents_over_time(tmp_path):
    from archive.export import records
    from archive.store import Archive

    archive = Archive(tmp_path / "a")
    archive.ensure_site({"id": "s", "name": "某市教育局"})
    report = archive.ensure_report(None, 2023, "2023年度政府信息公开工作年度报告", {"id": "s", "name": "某市教育局"})
    assert archive.ensure_report("某市教育局", 2023, "again", {"id": "s"}) == report  # idempotent, agency from the site
    archive.store_payload(report_id=report, url="http://x.gov.cn/a.html", role="page", data=b"<html>page</html>")
    archive.store_payload(report_id=report, url="http://x.gov.cn/a.pdf", role="attachment", data=b"%PDF-1 one")
    archive.store_payload(report_id=report, url="http://x.gov.cn/a.pdf", role="attachment", data=b"%PDF-1 one")
    assert [r["versions"] for r in records(archive)] == [1]  # a page and its PDF, unchanged
    archive.store_payload(report_id=report, url="http://x.gov.cn/a.pdf", role="attachment", data=b"%PDF-1 two")
    assert [(r["agency"], r["versions"]) for r in records(archive)] == [("某市教育局", 2)]


def test_fujian_platform_column_read_past_its_static_items_through_the_fjdzapp_search(tmp_path):
    """*.fujian.gov.cn: two items in the HTML, five declared (recordCount), the rest from POST /fjdzapp/search."""
    title = "泉州市洛江区人民政府{}年政府信息公开工作年度报告"
    static = "".join(f'<dd><a href="./{y}01/t{y}0118_1.htm">{title.format(y - 1)}</a><span>{y}-01-18</span></dd>'
                     for y in (2024, 2023))
    column = (f'<div class="gl_list"><dl>{static}</dl><div id="list_more"></div>'
              "<script>var pageConfig = { recordCount: '5', pageSize: '2', chnlid: '29117', channelid: '229105' };</script></div>")
    docs = [{"doctitle": title.format(y - 1), "chnldocurl": f"/zwgk/ndbg/{y}01/t{y}0118_1.htm", "docreltime": f"{y}-01-18 09:00:00"}
            for y in range(2024, 2019, -1)]
    files = {"/zwgk/ndbg/index.html": column, "/search/docs.json": json.dumps(docs, ensure_ascii=False)}
    files.update({f"/zwgk/ndbg/{y}01/t{y}0118_1.htm": page(title.format(y - 1), "泉州市洛江区人民政府") for y in range(2020, 2025)})
    routes = {"POST /fjdzapp/search": {"kind": "fjdzapp", "file": "search/docs.json", "column": "chnlid=29117", "referer": None}}
    with MiniPortal(tmp_path, files, routes) as mini:
        result, data = mini.crawl(tmp_path, "/zwgk/ndbg/")
        posts = [h for h in mini.portal.state.log if h.method == "POST"]
    assert [h.path for h in posts] == ["/fjdzapp/search"]
    assert sorted(y for (y,) in rows(data, "SELECT year FROM reports")) == [2019, 2020, 2021, 2022, 2023]
    assert summary_of(result)["sites"]["mini"]["coverage"] == "found 5 of 5" and summary_of(result)["warnings"] == []


def test_gkmlpt_column_read_from_its_json_api(tmp_path):
    """Guangdong gkmlpt: window._CONFIG's SID and the 年报 category; /gkmlpt/api/all/{id}?page=N&sid=."""
    index = ("<div id='app'></div><script>window._CONFIG = { SID: '755035', TREE: [{\"id\": 2700, \"name\": \"机构职能\"}, "
             "{\"id\": 2713, \"name\": \"政府信息公开年报\"}], SERVICE_AREA_ID: 1 };</script>")
    title = "深圳市科技创新局{}年政府信息公开工作年度报告"
    api = [{"classify": {"post_count": 3}, "articles": [{"title": title.format(y), "url": f"/gkmlpt/content/post_{y}.html",
                                                        "date": 1706500000} for y in years]}
           for years in ((2023, 2022), (2021,))]
    files = {"/gkmlpt/index.html": index, "/api/1.json": json.dumps(api[0], ensure_ascii=False),
             "/api/2.json": json.dumps(api[1], ensure_ascii=False)}
    files.update({f"/gkmlpt/content/post_{y}.html": page(title.format(y), "深圳市科技创新局") for y in (2021, 2022, 2023)})
    routes = {"/gkmlpt/index": {"file": "gkmlpt/index.html", "type": "text/html; charset=utf-8", "referer": None},
              **{f"/gkmlpt/api/all/2713?page={n}&sid=755035": {"file": f"api/{n}.json", "type": "application/json", "referer": None}
                 for n in (1, 2)}}
    with MiniPortal(tmp_path, files, routes) as mini:
        result, data = mini.crawl(tmp_path, "/gkmlpt/index")
        api_hits = [h.path for h in mini.portal.state.log if "/api/" in h.path]
    assert api_hits == ["/gkmlpt/api/all/2713?page=1&sid=755035", "/gkmlpt/api/all/2713?page=2&sid=755035"]
    assert sorted(y for (y,) in rows(data, "SELECT year FROM reports")) == [2021, 2022, 2023]
    assert summary_of(result)["sites"]["mini"]["coverage"] == "found 3 of 3"
