"""Real portals, round two (issue 27): pages written from documented real markup (tests/files/cms/, see its
README), each served by a local server and read by the real spider (`nianbao crawl` / `nianbao discover`
in a child process). None comes from our generator."""

from __future__ import annotations

import json
import re
from collections import Counter

import yaml

from sampleportal.server import Portal

from .conftest import FAST, FILES, nianbao
from .test_real_behaviour_crawl import MiniPortal, page, rows, summary_of

CMS = FILES / "cms"
TRS_COLUMN = "/xxgk/zfxxgknb/"
# the report items of the classic TRS column (tests/files/cms/trs_countpage_table*.html), by article path
TRS_REPORTS = {
    "202009/t20200903_2748784.html": 2019, "201903/t20190328_2299815.html": 2018, "201803/t20180329_2012876.html": 2017,
    "201703/t20170330_1700442.html": 2016, "201603/t20160331_1488120.html": 2015, "201503/t20150326_1270093.html": 2014,
}


def trs_articles() -> dict:
    return {f"{TRS_COLUMN}{path}": page(f"东胜区人民政府{year}年政府信息公开工作年度报告", "东胜区人民政府")
            for path, year in TRS_REPORTS.items()}


def years(data) -> list[int]:
    return sorted(y for (y,) in rows(data, "SELECT year FROM reports"))


# ---------------------------------------------------------------------------- pagers


def test_classic_trs_countpage_column_is_read_to_its_second_page(tmp_path):
    """var countPage = 2//共多少页 and a pager written by document.write("index" + "_" + nextPage + "." + "html"):
    no createPageHTML. Items are table rows, each titled by its own link."""
    files = {f"{TRS_COLUMN}index.html": (CMS / "trs_countpage_table.html").read_text(encoding="utf-8"),
             f"{TRS_COLUMN}index_1.html": (CMS / "trs_countpage_table_1.html").read_text(encoding="utf-8"),
             **trs_articles()}
    with MiniPortal(tmp_path, files) as mini:
        result, data = mini.crawl(tmp_path, TRS_COLUMN + "index.html")
        asked = [h.path for h in mini.portal.state.log if h.path.startswith(TRS_COLUMN + "index")]
    assert asked == [TRS_COLUMN + "index.html", TRS_COLUMN + "index_1.html"]
    assert years(data) == [2014, 2015, 2016, 2017, 2018, 2019]
    titles = [t for (t,) in rows(data, "SELECT title FROM reports")]
    assert all(re.fullmatch(r"东胜区人民政府20\d\d年政府信息公开工作年度报告", t) for t in titles), titles
    summary = summary_of(result)
    assert summary["sites"]["mini"]["coverage"] == "found 2 of 2 pages" and summary["warnings"] == []


def test_a_countpage_column_whose_second_page_is_not_read_is_a_warning(tmp_path):
    files = {f"{TRS_COLUMN}index.html": (CMS / "trs_countpage_table.html").read_text(encoding="utf-8"), **trs_articles()}
    with MiniPortal(tmp_path, files) as mini:  # index_1.html is gone (404)
        result, data = mini.crawl(tmp_path, TRS_COLUMN + "index.html")
    summary = summary_of(result)
    assert summary["sites"]["mini"]["coverage"] == "found 1 of 2 pages"
    assert [w for w in summary["warnings"] if "mini: " in w and TRS_COLUMN + "index.html: found 1 of 2 list pages" in w]
    assert rows(data, "SELECT count(*) FROM fetches WHERE outcome = 'coverage_short'") == [(1,)]


def test_a_family_pager_never_stops_the_generic_next_link(tmp_path):
    """A browser-saved copy of the TRS column (scripts removed): the DOM holds the literal
    <a href="index_1.html">&nbsp;<span class="greyfont">下一页</span>&nbsp;</a>; the registry says cms: trs."""
    files = {f"{TRS_COLUMN}index.html": (CMS / "trs_countpage_saved.html").read_text(encoding="utf-8"),
             f"{TRS_COLUMN}index_1.html": (CMS / "trs_countpage_table_1.html").read_text(encoding="utf-8"),
             **trs_articles()}
    with MiniPortal(tmp_path, files) as mini:
        result, data = mini.crawl(tmp_path, TRS_COLUMN + "index.html", cms="trs")
        asked = [h.path for h in mini.portal.state.log if h.path.startswith(TRS_COLUMN + "index")]
    assert asked == [TRS_COLUMN + "index.html", TRS_COLUMN + "index_1.html"]
    assert years(data) == [2014, 2015, 2016, 2017, 2018, 2019]


def test_a_pager_nianbao_cannot_follow_is_a_coverage_warning_naming_the_column(tmp_path):
    listing = ('<ul class="list"><li><a href="a.html">某县人民政府2023年政府信息公开工作年度报告</a><span>2024-01-10</span></li></ul>'
               '<div class="page"><a href="javascript:void(0)">上一页</a> <a href="javascript:goPage(2)">下一页</a></div>')
    files = {"/ndbg/index.html": listing, "/ndbg/a.html": page("某县人民政府2023年政府信息公开工作年度报告")}
    with MiniPortal(tmp_path, files) as mini:
        result, data = mini.crawl(tmp_path, "/ndbg/index.html")
    (warning,) = summary_of(result)["warnings"]
    assert warning.startswith("mini: ") and "/ndbg/index.html: found 1 items on 1 list page(s)" in warning
    assert "pager is not one nianbao understands (下一页: javascript:goPage(2))" in warning


# ---------------------------------------------------------------------------- list items


def test_table_rows_are_items_titled_by_their_own_links_and_the_menu_is_not():
    """The TRS table column: ten rows, each its own link's title and its date; not one glued layout row, not
    the left-hand menu's eight links. Discovery reads the same items: 4 of 10 are reports."""
    from scrapy.http import HtmlResponse

    from crawler.cms import family_for, page_items
    from crawler.discovery import judge_column

    body = (CMS / "trs_countpage_table.html").read_bytes()
    response = HtmlResponse(url="http://www.dongsheng.gov.cn/xxgk/zfxxgknb/index.html", body=body, encoding="utf-8")
    items = family_for(None, response).list_items(response)
    written = re.findall(r'<td><a href="\./([^"]+)" target="_blank" title="([^"]+)">\2</a></td><td width="90">([\d-]+)<', body.decode())
    assert len(written) == 10
    assert [(i.url.replace(response.url.rsplit("/", 1)[0] + "/", ""), i.title, i.date) for i in items] == written
    assert judge_column([i.title for i in page_items("trs", response)]).reports == 4


def test_the_menu_beside_the_list_does_not_count_toward_coverage(tmp_path):
    """Ten items declared as 20 (共20条), page 2 gone; the left-hand 政府信息公开 menu's eight links are not items."""
    column = "/zfxxgk/zfxxgknb/"
    listing = (CMS / "column_menu_list.html").read_text(encoding="utf-8")
    articles = re.findall(r'href="\./(\d{6}/t\d+_\d+\.html)"[^>]*title="([^"]+)"', listing)
    files = {f"{column}index.html": listing,
             **{f"{column}{path}": page(title, title.split("20")[0]) for path, title in articles}}
    with MiniPortal(tmp_path, files) as mini:
        result, data = mini.crawl(tmp_path, column + "index.html")
    summary = summary_of(result)
    assert summary["sites"]["mini"]["coverage"] == "found 10 of 20"
    assert any(f"{column}index.html: found 10 of 20 items the column declares" in w for w in summary["warnings"])
    assert len(articles) == 10 and rows(data, "SELECT count(*) FROM reports") == [(10,)]


# ---------------------------------------------------------------------------- Fujian


def test_fujian_store_named_by_siteinfo_searchid_is_the_one_asked(tmp_path):
    """channelid: SiteInfo.searchId, with searchId: 200210 in the page's SiteInfo: the search is asked of store
    200210 (the server answers nothing for the provincial 229105, as the real platform would not list this column)."""
    title = "福建省工业和信息化厅{}年政府信息公开工作年度报告"
    # the search lists the column from its newest item, the two the page prints statically included
    paths = {2024: "202401/t20240126_6387101.htm", 2023: "202301/t20230130_6101552.htm",
             **{y: f"{y}01/t{y}0126_{y}.htm" for y in (2022, 2021, 2020)}}
    docs = [{"doctitle": title.format(y - 1), "chnldocurl": f"/zwgk/ndbg/{paths[y]}", "docreltime": f"{y}-01-26 09:00:00"}
            for y in range(2024, 2019, -1)]
    files = {"/zwgk/ndbg/index.htm": (CMS / "fujian_searchid_column.htm").read_text(encoding="utf-8"),
             "/search/docs.json": json.dumps(docs, ensure_ascii=False),
             **{f"/zwgk/ndbg/{paths[y]}": page(title.format(y - 1), "福建省工业和信息化厅") for y in paths}}
    routes = {"POST /fjdzapp/search": {"kind": "fjdzapp", "file": "search/docs.json", "column": "chnlid=37506",
                                       "store": "200210", "referer": None}}
    with MiniPortal(tmp_path, files, routes) as mini:
        result, data = mini.crawl(tmp_path, "/zwgk/ndbg/index.htm")
        posts = [h for h in mini.portal.state.log if h.method == "POST"]
    assert [(h.path, h.status) for h in posts] == [("/fjdzapp/search", 200)]
    assert years(data) == [2019, 2020, 2021, 2022, 2023]
    assert summary_of(result)["sites"]["mini"]["coverage"] == "found 5 of 5"


# ---------------------------------------------------------------------------- discovery


def test_discover_started_on_the_trs_table_column_reports_that_column(tmp_path):
    files = {f"{TRS_COLUMN}index.html": (CMS / "trs_countpage_table.html").read_text(encoding="utf-8")}
    with MiniPortal(tmp_path, files) as mini:
        result = nianbao("discover", mini.portal.url + TRS_COLUMN + "index.html", "--max-pages", "5", *FAST)
    printed = yaml.safe_load(result.stdout)
    assert [e["start_urls"] for e in printed["sites"]] == [[mini.portal.url + TRS_COLUMN + "index.html"]]
    assert "list: 4 of 10 items are annual reports" in result.stdout


def test_discovery_judges_a_jcms_datastore_column_and_a_vsb_column_once(tmp_path):
    """A portal whose registry says cms: trs; its departments' columns are jcms (records inside
    <script type="text/xml"><datastore>) and VSB (ndbg.htm, whose pager leads to ndbg/16.htm)."""
    root = ('<html><head><meta charset="utf-8"><title>某市人民政府</title></head><body><div class="main">'
            '<a href="/col/col77278/index.html">人社局政府信息公开年报</a>'
            '<a href="/kjj/ndbg.htm">科技局政府信息公开年度报告</a></div></body></html>')
    vsb = (CMS / "vsb_list.htm").read_text(encoding="utf-8")
    files = {"/index.html": root, "/col/col77278/index.html": (CMS / "hanweb_jpage_column.html").read_text(encoding="utf-8"),
             "/kjj/ndbg.htm": vsb, "/kjj/ndbg/16.htm": vsb, "/kjj/ndbg/1.htm": vsb}
    with MiniPortal(tmp_path, files) as mini:
        registry = tmp_path / "portal.yml"
        registry.write_text(yaml.safe_dump({"sites": [{
            "id": "city", "name": "某市人民政府", "region": "江西省/景德镇市", "cms": "trs",
            "portal": mini.portal.url + "/index.html"}]}, allow_unicode=True), encoding="utf-8")
        nianbao("crawl", "--sites", registry, "--data", tmp_path / "data", "--no-extract", *FAST, check=False)
    found = sorted(u for (u,) in rows(tmp_path / "data", "SELECT url FROM columns"))
    assert found == [mini.portal.url + "/col/col77278/index.html", mini.portal.url + "/kjj/ndbg.htm"]


# ---------------------------------------------------------------------------- politeness and addresses


def test_subdomains_of_one_portal_share_one_slot_one_request_at_a_time_and_the_delay(tmp_path):
    """Twelve items on twelve subdomains of one portal, all on one server: the default polite concurrency
    (one request per domain) and a 0.4 s delay hold across all of them."""
    hosts = [f"bm{n}.dongsheng.gov.cn" for n in range(12)]  # names with a real public suffix (gov.cn)
    names = ",".join(f"{h}=127.0.0.1" for h in ["www.dongsheng.gov.cn", *hosts])
    title = "某县{}局2023年政府信息公开工作年度报告"
    with Portal(site=tmp_path / "site") as server:
        port = server.url.rsplit(":", 1)[1]
        (tmp_path / "site" / "ndbg").mkdir(parents=True)
        (tmp_path / "site" / "robots.txt").write_text("User-agent: *\nDisallow:\n")
        items = "".join(f'<li><a href="http://{h}:{port}/ndbg/a{n}.html">{title.format(n)}</a><span>2024-01-10</span></li>'
                        for n, h in enumerate(hosts))
        (tmp_path / "site" / "ndbg" / "index.html").write_text(f"<ul>{items}</ul>", encoding="utf-8")
        for n in range(12):
            (tmp_path / "site" / "ndbg" / f"a{n}.html").write_text(page(title.format(n)), encoding="utf-8")
        server.state.latency = 0.15  # each answer takes a while: overlapping requests would show
        registry = tmp_path / "sites.yml"
        registry.write_text(yaml.safe_dump({"sites": [{"id": "county", "name": "某县人民政府", "region": "福建省/泉州市/某县",
                                                        "start_urls": [f"http://www.dongsheng.gov.cn:{port}/ndbg/index.html"]}]},
                                           allow_unicode=True), encoding="utf-8")
        result = nianbao("crawl", "--sites", registry, "--data", tmp_path / "data", "--no-extract",
                         "-s", "TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver", "-s", f"NIANBAO_TEST_ADDRESSES={names}",
                         "-s", "DOWNLOAD_DELAY=0.4",
                         "-s", "DOWNLOAD_DELAY_JITTER=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING")
        arrivals = [t for t, host in server.state.arrivals]
        most = server.state.max_in_flight
    assert summary_of(result)["reports_found"] == 12
    assert len({host for _, host in server.state.arrivals}) == 13  # www. and the twelve subdomains
    assert most == 1
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    # the delay runs from one request's sending to the next's; arrivals at a loaded server scatter around that,
    # never by the whole delay (separate slots per subdomain sent these within milliseconds of each other)
    assert len(gaps) >= 13 and min(gaps) >= 0.2 and sorted(gaps)[len(gaps) // 2] >= 0.35, gaps


def test_a_name_resolving_to_a_private_address_is_refused_unless_the_entry_points_there(tmp_path):
    """The portal on 127.0.0.2; its column links a name under the portal's own domain that resolves to 127.0.0.1
    (another server, holding a "report") and one resolving to 169.254.169.254. Both are refused at connect time;
    an entry that itself points at 127.0.0.1 fetches from it."""
    title = "某县人民政府{}年政府信息公开工作年度报告"
    (tmp_path / "inner" / "ndbg").mkdir(parents=True)
    (tmp_path / "inner" / "robots.txt").write_text("User-agent: *\nDisallow:\n")
    (tmp_path / "inner" / "ndbg" / "index.html").write_text(
        f'<ul><li><a href="secret.html">{title.format(2021)}</a><span>2022-01-10</span></li></ul>', encoding="utf-8")
    (tmp_path / "inner" / "ndbg" / "secret.html").write_text(page(title.format(2021)), encoding="utf-8")
    (tmp_path / "outer" / "ndbg").mkdir(parents=True)
    (tmp_path / "outer" / "robots.txt").write_text("User-agent: *\nDisallow:\n")
    with Portal(site=tmp_path / "inner") as inner, Portal(site=tmp_path / "outer", host="127.0.0.2") as outer:
        inner_port, outer_port = inner.url.rsplit(":", 1)[1], outer.url.rsplit(":", 1)[1]
        (tmp_path / "outer" / "ndbg" / "index.html").write_text(
            f'<ul><li><a href="a.html">{title.format(2023)}</a><span>2024-01-10</span></li>'
            f'<li><a href="http://internal.dongsheng.gov.cn:{inner_port}/ndbg/secret.html">{title.format(2022)}</a>'
            f'<span>2023-01-10</span></li>'
            f'<li><a href="http://meta.dongsheng.gov.cn:{outer_port}/latest/meta-data/">{title.format(2020)}</a>'
            f'<span>2021-01-10</span></li></ul>', encoding="utf-8")
        (tmp_path / "outer" / "ndbg" / "a.html").write_text(page(title.format(2023)), encoding="utf-8")

        def crawl(start, data):
            registry = tmp_path / f"{data}.yml"
            registry.write_text(yaml.safe_dump({"sites": [{"id": "county", "name": "某县人民政府", "region": "福建省/泉州市/某县",
                                                            "start_urls": [start]}]}, allow_unicode=True), encoding="utf-8")
            nianbao("crawl", "--sites", registry, "--data", tmp_path / data, "--no-extract", *FAST,
                    "-s", "TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver", "-s", "RETRY_TIMES=0",
                    "-s", "NIANBAO_TEST_ADDRESSES=www.dongsheng.gov.cn=127.0.0.2,"
                    "internal.dongsheng.gov.cn=127.0.0.1,meta.dongsheng.gov.cn=169.254.169.254")
            return tmp_path / data

        outside = crawl(f"http://www.dongsheng.gov.cn:{outer_port}/ndbg/index.html", "outside")
        inner_hits_outside = len(inner.state.log)
        inside = crawl(f"http://internal.dongsheng.gov.cn:{inner_port}/ndbg/index.html", "inside")
    assert years(outside) == [2023]
    assert inner_hits_outside == 0  # not even robots.txt: refused before any connection
    refused = dict(rows(outside, "SELECT url, reason FROM fetches WHERE outcome = 'refused'"))
    assert "internal.dongsheng.gov.cn resolves to 127.0.0.1" in refused[f"http://internal.dongsheng.gov.cn:{inner_port}/ndbg/secret.html"]
    assert any("meta.dongsheng.gov.cn resolves to 169.254.169.254" in r for r in refused.values())
    assert years(inside) == [2021]


# ---------------------------------------------------------------------------- fetch outcomes


def test_fetch_failures_are_recorded_and_summed_by_kind(tmp_path):
    """A refused connection, a TLS handshake with a plain-HTTP server, a timeout and a 404, each its own outcome."""
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the connection is refused
    title = "某县人民政府{}年政府信息公开工作年度报告"
    files = {"/ndbg/a.html": page(title.format(2023)), "/slow/b.html": page(title.format(2022))}
    routes = {"/ndbg/slow.html": {"file": "slow/b.html", "type": "text/html", "delivery": "stall", "referer": None}}
    with MiniPortal(tmp_path, files, routes, stall=4) as mini:
        port = mini.portal.url.rsplit(":", 1)[1]
        listing = "".join(f'<li><a href="{href}">{title.format(y)}</a><span>{y + 1}-01-10</span></li>' for href, y in (
            ("a.html", 2023), ("slow.html", 2022), ("gone.html", 2021),
            (f"http://127.0.0.1:{closed_port}/c.html", 2020), (f"https://127.0.0.1:{port}/ndbg/d.html", 2019)))
        (mini.dir / "site" / "ndbg" / "index.html").write_text(f"<ul>{listing}</ul>", encoding="utf-8")
        result, data = mini.crawl(tmp_path, "/ndbg/index.html", "-s", "RETRY_TIMES=0", "-s", "DOWNLOAD_TIMEOUT=1")
    outcomes = dict(rows(data, "SELECT url, outcome FROM fetches WHERE url NOT LIKE '%robots.txt'"))
    base = mini.portal.url
    assert outcomes[f"{base}/ndbg/slow.html"] == "timeout"
    assert outcomes[f"{base}/ndbg/gone.html"] == "http_error"
    assert outcomes[f"http://127.0.0.1:{closed_port}/c.html"] == "connection_refused"
    assert outcomes[f"https://127.0.0.1:{port}/ndbg/d.html"] == "tls_error"
    summary = summary_of(result)
    failures = summary["sites"]["mini"]["fetch_failures"]
    assert set(failures) == {"connection_refused", "http_404", "timeout", "tls_error"}
    logged = rows(data, "SELECT outcome, status FROM fetches WHERE site_id = 'mini' AND outcome != 'fetched'")
    assert failures == dict(Counter(f"http_{status}" if outcome == "http_error" else outcome for outcome, status in logged))
    # run-wide, the closed port's robots.txt (a request of no site) is counted too
    assert summary["fetch_failures"] == {**failures, "connection_refused": 2}


# ---------------------------------------------------------------------------- the sample portal's dialects


def test_sample_portal_countpage_and_searchid_dialects_are_read_whole(crawled):
    """The demo exercises both: the classic countPage column (table rows, menu beside) to its last page, and the
    Fujian site's store named by SiteInfo.searchId (the portal answers nothing for another store)."""
    from .conftest import EXPECTED

    column = "/dsq/xxgk/zfxxgknb/"  # the registry's start URL: the folder, its index.html
    trs_pages = sorted(h.path for h in crawled["hits"] if h.path == column or h.path.startswith(column + "index"))
    assert trs_pages == [column, column + "index_1.html", column + "index_2.html"]
    posts = [(h.path, h.status) for h in crawled["hits"] if h.method == "POST" and h.path == "/fjdzapp/search"]
    assert posts and all(status == 200 for _, status in posts)
    for column in ("dongsheng-zfxxgknb", "fujian-gxt"):
        want = {(e["agency"], e["year"]) for e in EXPECTED if e["column"] == column}
        got = {(r["agency"], r["year"]) for r in crawled["records"] if (r["agency"], r["year"]) in want}
        assert len(want) == 6 and got == want
        assert crawled["summary"]["sites"][column]["coverage"].startswith("found")
    assert not [w for w in crawled["summary"]["warnings"] if "dsq/" in w or "fjgxt/" in w]
