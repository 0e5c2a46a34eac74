"""Finding things on the site (issue 28): search by quoted phrase, agency (short names too) and published
date, honest paging, hints, ranking, feeds per agency and region, Chinese error pages, filters kept in
links, and one file for identical bytes. Truth comes from the sample portal's expected.json, the report
texts read with plain Python, and hand-written fixtures, never from the search code."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import parse_qs, quote, urlsplit
from xml.etree import ElementTree

import pytest

from sampleportal.server import Portal

from .conftest import EXPECTED, FAST, SAMPLE_SITES, copy_archive, nianbao
from .test_datasette import get, get_json

ATOM = {"a": "http://www.w3.org/2005/Atom"}
SCIENCE = ("科技局", "科学技术局")  # the short and the official name of the science and technology bureaus


def db_of(data) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data / 'nianbao.db'}?mode=ro", uri=True)


def texts_holding(data, phrase: str) -> dict[int, str]:
    """report id → agency, for the reports whose current text, title or agency holds `phrase` (plain `in`)."""
    rows = db_of(data).execute("SELECT r.id, a.name, r.title, coalesce(v.text, '') FROM reports r "
                               "JOIN agencies a ON a.id = r.agency_id LEFT JOIN versions v ON v.id = r.source_version_id")
    return {rid: name for rid, name, title, text in rows if phrase in f"{title}\n{name}\n{text}"}


# ---------------------------------------------------------------- search: phrases, agency, dates


@pytest.mark.parametrize("quoted", ["“行政复议”", '"行政复议"', "「行政复议」", "『行政复议』", "“复议”", '"复议"'])
def test_a_quoted_phrase_finds_what_holds_it(crawled, quoted):
    phrase = quoted[1:-1]
    _, body = get_json(crawled["data"], "/-/search.json?size=100&q=" + quote(quoted))
    assert body["terms"] == [phrase]
    assert {r["report_id"] for r in body["rows"]} == set(texts_holding(crawled["data"], phrase))
    assert body["total"] == len(EXPECTED)  # every report has a review section
    assert all(f"<mark>{phrase}</mark>" in r["snippet"] for r in body["rows"])


def test_a_quoted_phrase_is_one_term_and_rare_phrases_narrow(crawled):
    data = crawled["data"]
    _, body = get_json(data, "/-/search.json?size=100&q=" + quote("“予以公开”"))
    assert {r["report_id"] for r in body["rows"]} == set(texts_holding(data, "予以公开"))
    _, body = get_json(data, "/-/search.json?q=" + quote("“赣州市科技局” 2021"))
    assert body["terms"] == ["赣州市科技局", "2021"]
    truth = {rid for rid in texts_holding(data, "赣州市科技局") if rid in texts_holding(data, "2021")}
    assert {r["report_id"] for r in body["rows"]} == truth and truth


def test_agency_filter_finds_short_and_official_names_alike(crawled):
    wanted = {e["agency"] for e in EXPECTED if any(name in e["agency"] for name in SCIENCE)}
    assert {a for a in wanted if "科技局" in a} and {a for a in wanted if "科学技术局" in a}  # both forms are there
    for typed in SCIENCE:
        _, body = get_json(crawled["data"], f"/-/search.json?size=100&q=复议&agency={quote(typed)}")
        assert {r["agency"] for r in body["rows"]} == wanted, typed
        assert body["total"] == sum(1 for e in EXPECTED if e["agency"] in wanted)
    _, one = get_json(crawled["data"], "/-/search.json?size=100&q=复议&agency=" + quote("洛江区科技局"))
    assert {r["agency"] for r in one["rows"]} == {"泉州市洛江区科学技术局"}
    page = get(crawled["data"], "/-/search?q=复议&agency=" + quote("科技局")).text
    assert "“科学技术局”" in page and 'id="agency-filter"' in page  # says which names it looked for


def test_a_search_for_a_short_name_offers_the_official_one(crawled):
    page = get(crawled["data"], "/-/search?q=" + quote("洛江区科技局")).text
    link = re.search(r'class="alternative" href="([^"]+)">洛江区科学技术局<', page).group(1).replace("&amp;", "&")
    _, body = get_json(crawled["data"], link.replace("/-/search?", "/-/search.json?"))
    assert body["total"] == sum(1 for e in EXPECTED if e["agency"] == "泉州市洛江区科学技术局")


def test_agency_lookup_by_abbreviation(crawled):
    data = crawled["data"]
    for typed in SCIENCE:
        _, body = get_json(data, "/-/agency.json?q=" + quote(typed))
        assert {a["name"] for a in body["agencies"]} == {e["agency"] for e in EXPECTED
                                                         if any(n in e["agency"] for n in SCIENCE)}, typed
    _, body = get_json(data, "/-/agency.json?q=" + quote("发改局"))
    assert [a["name"] for a in body["agencies"]] == ["泉州市丰泽区发展和改革局"]
    _, body = get_json(data, "/-/agency.json?q=" + quote("洛江区卫健局"))
    assert [a["name"] for a in body["agencies"]] == ["泉州市洛江区卫生健康局"]


@pytest.mark.parametrize("short, official", [
    ("科技局", "科学技术局"), ("发改委", "发展和改革委员会"), ("人社局", "人力资源和社会保障局"),
    ("卫健委", "卫生健康委员会"), ("住建局", "住房和城乡建设局"), ("市场监管局", "市场监督管理局"),
    ("医保局", "医疗保障局"), ("应急局", "应急管理局"), ("文旅局", "文化和旅游局"), ("交通局", "交通运输局"),
])
def test_the_abbreviation_table_goes_both_ways(short, official):
    from archive.agency_names import name_variants

    assert official in name_variants(short)
    assert f"某市{short}" in name_variants(f"某市{official}")
    assert all(v.count(official) <= 1 and "员会员会" not in v for v in name_variants(f"某市{official}"))


def test_published_date_range(crawled):
    data = crawled["data"]
    _, body = get_json(data, "/-/search.json?size=100&q=复议&published_from=2022-01-01&published_to=2022-12-31")
    truth = {(e["agency"], e["year"]) for e in EXPECTED if "2022-01-01" <= e["published"] <= "2022-12-31"}
    assert truth and {(r["agency"], r["year"]) for r in body["rows"]} == truth
    _, spring = get_json(data, "/-/search.json?size=100&q=复议&published_from=2021-02&published_to=2021-03")
    assert {(r["agency"], r["year"]) for r in spring["rows"]} == {
        (e["agency"], e["year"]) for e in EXPECTED if "2021-02-01" <= e["published"] <= "2021-03-31"}
    _, years = get_json(data, "/-/search.json?size=100&q=复议&published_from=2023")
    assert {(r["agency"], r["year"]) for r in years["rows"]} == {
        (e["agency"], e["year"]) for e in EXPECTED if e["published"] >= "2023-01-01"}
    page = get(data, "/-/search?q=复议&published_from=" + quote("not a date"))
    assert page.status_code == 200 and "发布日期格式有误" in page.text


def test_paging_is_honest(crawled):
    data = crawled["data"]
    # every sample report says 复议 (its 表四 heading): the pages follow from the truth, 20 a page
    pages = -(-len(EXPECTED) // 20)
    assert pages >= 3
    _, last = get_json(data, f"/-/search.json?q=复议&size=20&page={pages}")
    assert (last["pages"], last["out_of_range"], len(last["rows"])) == (pages, False, len(EXPECTED) - 20 * (pages - 1))
    _, past = get_json(data, "/-/search.json?q=复议&size=20&page=999")
    assert (past["pages"], past["out_of_range"], past["rows"]) == (pages, True, [])
    page = get(data, "/-/search?q=复议&size=20&page=999").text
    assert "第 999 /" not in page and "/ 999" not in page
    assert f"只有 <strong class=\"pages\">{pages}</strong> 页，没有第 999 页" in page
    assert re.search(rf'class="last-page" href="/-/search\?q=%E5%A4%8D%E8%AE%AE&amp;size=20&amp;page={pages}"', page)
    current = get(data, "/-/search?q=复议&size=20&page=2").text
    assert f'第 <span class="page">2</span> / <span class="pages">{pages}</span> 页' in current
    one = get(data, "/-/search?q=" + quote("赣州") + "&page=5").text
    assert "没有第 5 页" in one and "第 5 /" not in one


def test_an_empty_query_shows_hints_that_work(crawled):
    page = get(crawled["data"], "/-/search").text
    assert 'class="search-hints"' in page and "引号" in page and "科技局" in page
    hints = page[page.index('class="search-hints"'):page.index("</section>")]
    links = [h.replace("&amp;", "&") for h in re.findall(r'href="(/-/search\?[^"]+)"', hints)]
    assert len(links) >= 4
    for link in links:  # every example finds something
        _, body = get_json(crawled["data"], link.replace("/-/search?", "/-/search.json?"))
        assert body["total"] > 0, link


# ---------------------------------------------------------------- ranking


RANKED_TERM = "依申请公开"
FILLER = "本机关认真落实政务公开各项要求，持续完善工作机制。"


def ranked_archive(tmp_path):
    """Five reports of one length whose texts hold the term 6, 4, 3, 2 and 1 times, in an order that is
    neither the order of their ids (archiving) nor of their years, forwards or backwards."""
    from archive.store import Archive

    counts = {1: 3, 2: 6, 3: 1, 4: 4, 5: 2}
    years = {1: 2023, 2: 2021, 3: 2022, 4: 2019, 5: 2020}
    archive = Archive(tmp_path)
    db = archive.db
    with db.conn:
        for rid, count in counts.items():
            text = (RANKED_TERM + "。") * count + FILLER * 3 + "。" * (6 - count) * (len(RANKED_TERM) + 1)
            db.execute("INSERT INTO agencies (id, name, province) VALUES (?, ?, '某省')", [rid, f"某县第{rid}机关"])
            db.execute("INSERT INTO reports (id, agency_id, year, title, source_version_id, first_seen) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [rid, rid, years[rid], f"某县第{rid}机关{years[rid]}年年报", rid,
                                                     f"2024-01-0{rid}T00:00:00"])
            db.execute("INSERT INTO documents (id, report_id, url, role) VALUES (?, ?, ?, 'page')",
                       [rid, rid, f"http://example.gov.cn/{rid}.htm"])
            db.execute("INSERT INTO blobs (sha256, size, media_type) VALUES (?, 1, 'text/html')", [f"{rid:064d}"])
            db.execute("INSERT INTO versions (id, document_id, sha256, first_seen, text) VALUES (?, ?, ?, ?, ?)",
                       [rid, rid, f"{rid:064d}", f"2024-01-0{rid}T00:00:00", text])
    archive.build_search()
    archive.checkpoint()
    lengths = {len(r[0]) for r in db.execute("SELECT text FROM versions")}
    assert len(lengths) == 1  # one length: bm25 then orders by how often the term occurs
    archive.close() if hasattr(archive, "close") else db.conn.close()
    return counts


def test_relevance_ranks_by_how_much_a_report_says_not_by_year_or_archiving(tmp_path):
    counts = ranked_archive(tmp_path)
    most_first = sorted(counts, key=counts.get, reverse=True)  # truth: str.count, not bm25
    assert most_first == [2, 4, 1, 5, 3]
    _, body = get_json(tmp_path, "/-/search.json?q=" + quote(RANKED_TERM))  # the default sort
    assert [r["report_id"] for r in body["rows"]] == most_first
    _, body = get_json(tmp_path, "/-/search.json?sort=relevance&size=10&page=1&q=" + quote(f"“{RANKED_TERM}”"))
    assert [r["report_id"] for r in body["rows"]] == most_first
    _, newest = get_json(tmp_path, "/-/search.json?sort=newest&q=" + quote(RANKED_TERM))
    assert [r["year"] for r in newest["rows"]] == [2023, 2022, 2021, 2020, 2019]
    page = get(tmp_path, "/-/search?q=" + quote(RANKED_TERM)).text
    assert [int(i) for i in re.findall(r'class="report-link" href="/-/report/(\d+)"', page)] == most_first


# ---------------------------------------------------------------- feeds


def feed_entries(xml: str) -> list[dict]:
    root = ElementTree.fromstring(xml.encode("utf-8"))
    return [{"title": e.findtext("a:title", "", ATOM), "link": e.find("a:link", ATOM).get("href"),
             "updated": e.findtext("a:updated", "", ATOM)} for e in root.findall("a:entry", ATOM)]


def test_agency_feed_holds_every_report_of_the_agency(crawled):
    data = crawled["data"]
    _, found = get_json(data, "/-/agency.json?q=" + quote("嘉兴"))
    agency_id = found["agencies"][0]["id"]
    page = get(data, f"/-/agency/{agency_id}").text
    assert f'<link rel="alternate" type="application/atom+xml" title="嘉兴市科学技术局 新年报 feed" ' \
           f'href="/-/agency/{agency_id}.atom">' in page
    assert f'href="/-/agency/{agency_id}/feed"' in page
    response = get(data, f"/-/agency/{agency_id}.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    entries = feed_entries(response.text)
    ids = [int(e["link"].rsplit("/", 1)[1]) for e in entries]
    truth = {(e["agency"], e["year"]) for e in EXPECTED if e["agency"] == "嘉兴市科学技术局"}
    got = {tuple(r) for r in db_of(data).execute(
        f"SELECT a.name, r.year FROM reports r JOIN agencies a ON a.id = r.agency_id "
        f"WHERE r.id IN ({','.join(map(str, ids))})")}
    assert len(ids) == len(set(ids)) == len(truth) and got == truth
    assert all(e["link"].startswith("http://localhost/-/report/") for e in entries)
    assert [e["updated"] for e in entries] == sorted((e["updated"] for e in entries), reverse=True)
    assert get(data, "/-/agency/999999.atom").status_code == 404


def test_region_feed_and_its_page(crawled):
    data = crawled["data"]
    query = "province=" + quote("福建省") + "&city=" + quote("泉州市") + "&county=" + quote("洛江区")
    page = get(data, f"/-/region?{query}").text
    in_html = query.replace("&", "&amp;")
    assert 'rel="alternate" type="application/atom+xml"' in page and f'href="/-/region.atom?{in_html}"' in page
    entries = feed_entries(get(data, f"/-/region.atom?{query}").text)
    truth = sum(1 for e in EXPECTED if "洛江区" in e["agency"])
    assert len(entries) == truth and all("洛江区" in e["title"] for e in entries)
    human = get(data, f"/-/region/feed?{query}")
    assert human.status_code == 200 and human.headers["content-type"].startswith("text/html")
    text = human.text
    assert text.index("Atom 订阅源") < text.index("feed-xml")  # the explanation comes before the XML
    assert f'value="http://localhost/-/region.atom?{in_html}"' in text
    assert text.count('<li><a href="http://localhost/-/report/') == truth


def test_search_feed_has_a_page_that_explains_it(crawled):
    data = crawled["data"]
    page = get(data, "/-/search?q=" + quote("嘉兴")).text
    assert 'href="/-/search/feed?q=%E5%98%89%E5%85%B4"' in page and 'rel="alternate" type="application/atom+xml"' in page
    human = get(data, "/-/search/feed?q=" + quote("嘉兴")).text
    assert "Atom 订阅源" in human and 'href="/-/search.atom?q=%E5%98%89%E5%85%B4"' in human
    assert human.count('<li><a href="http://localhost/-/report/') == sum(1 for e in EXPECTED if "嘉兴" in e["agency"])
    home = get(data, "/").text
    assert 'href="/-/feed"' in home and "Atom 订阅源" in get(data, "/-/feed").text


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("path, chinese", [
    ("/nosuch", "没有这个数据库"),
    ("/nianbao/nosuch", "没有这张数据表"),
    ("/-/region?province=" + quote("火星"), "档案中没有“火星”的机关"),
    ("/-/region?province=" + quote("浙江省") + "&city=" + quote("泉州市"), "档案中没有“浙江省泉州市”的机关"),
    ("/-/region/feed?province=" + quote("火星"), "档案中没有“火星”的机关"),
    ("/-/region.atom?province=" + quote("火星"), "档案中没有“火星”的机关"),
    ("/-/tables?province=" + quote("火星"), "档案中没有“火星”的机关"),
    ("/-/tables.xlsx?county=" + quote("火星区"), "档案中没有“火星区”的机关"),
    ("/-/agency/999999", "没有编号为 999999 的机关"),
    ("/-/agency/999999/feed", "没有编号为 999999 的机关"),
    ("/-/report/999999", "没有编号为 999999 的年报"),
])
def test_unknown_names_give_a_chinese_404(crawled, path, chinese):
    response = get(crawled["data"], path)
    assert response.status_code == 404
    title = re.search(r"<title>(.*?)</title>", response.text, re.S).group(1)
    assert title.startswith("未找到")
    error = re.search(r'<div class="nianbao-error">(.*?)</div>', response.text, re.S).group(1)
    assert chinese in error
    assert re.sub(r"<[^>]+>", "", error).strip()[0] >= "\u3400"  # Chinese first, not "Database not found"


def test_a_search_in_an_unknown_region_says_so(crawled):
    page = get(crawled["data"], "/-/search?q=复议&province=" + quote("火星"))
    assert page.status_code == 200 and "档案中没有“火星”的机关" in page.text
    known = get(crawled["data"], "/-/search?q=复议&province=" + quote("浙江省")).text
    assert "档案中没有" not in known


def test_region_json_of_an_unknown_name_is_404_and_known_names_answer(crawled):
    assert get(crawled["data"], "/-/region.json?province=" + quote("火星")).status_code == 404
    assert get(crawled["data"], "/-/region?province=" + quote("浙江省")).status_code == 200
    assert get(crawled["data"], "/-/region").status_code == 200


# ---------------------------------------------------------------- filters kept


def test_links_on_a_county_page_keep_the_county(crawled):
    data = crawled["data"]
    query = {"province": "福建省", "city": "泉州市", "county": "洛江区"}
    _, region = get_json(data, "/-/region.json?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()))
    page = get(data, "/-/region?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())).text
    years = re.findall(r'class="year-link" href="([^"]+)"', page)
    assert len(years) == len(region["history"]) > 1
    for href, year in zip(years, region["history"]):
        args = {k: v[0] for k, v in parse_qs(urlsplit(href.replace("&amp;", "&")).query).items()}
        assert args == {**query, "year": str(year["year"])}, href
        _, rows = get_json(data, href.replace("&amp;", "&").replace("/report_figures?", "/report_figures.json?_shape=array&"))
        assert {r["county"] for r in rows} == {"洛江区"} and len(rows) == year["reports"]
    for cls in ("search-region", "figures-region", "feed-link"):
        href = re.search(rf'class="{cls}" href="([^"]+)"', page).group(1).replace("&amp;", "&")
        assert parse_qs(urlsplit(href).query).get("county") == ["洛江区"], cls
    _, searched = get_json(data, "/-/search.json?size=100&q=复议&county=" + quote("洛江区"))
    assert {r["county"] for r in searched["rows"]} == {"洛江区"}
    assert searched["total"] == sum(1 for e in EXPECTED if "洛江区" in e["agency"])


def test_agency_and_report_pages_link_their_county(crawled):
    data = crawled["data"]
    _, found = get_json(data, "/-/agency.json?q=" + quote("洛江区教育局"))
    agency_id = found["agencies"][0]["id"]
    county_link = "/-/region?province=%E7%A6%8F%E5%BB%BA%E7%9C%81&amp;city=%E6%B3%89%E5%B7%9E%E5%B8%82&amp;county=%E6%B4%9B%E6%B1%9F%E5%8C%BA"
    assert county_link in get(data, f"/-/agency/{agency_id}").text
    _, agency = get_json(data, f"/-/agency/{agency_id}.json")
    assert county_link in get(data, f"/-/report/{agency['history'][0]['report_id']}").text


# ---------------------------------------------------------------- identical bytes


@pytest.fixture(scope="module")
def crawled_twice(crawled, tmp_path_factory):
    """The archive, crawled again from the same portal on a new port: every file at a second URL."""
    data = tmp_path_factory.mktemp("twice") / "archive"
    copy_archive(crawled["data"], data)
    with Portal() as portal:
        nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, *FAST)
    return data


def test_identical_bytes_are_one_file_with_also_seen_at(crawled_twice):
    data = crawled_twice
    db = db_of(data)
    addresses, distinct = db.execute("SELECT count(*), count(DISTINCT v.sha256) FROM documents d "
                                     "JOIN versions v ON v.document_id = d.id").fetchone()
    assert addresses == 2 * distinct  # the same files, each at two URLs
    home = get(data, "/").text
    assert f"<strong>{distinct}</strong> 份存档文件" in home and f"<strong>{addresses}</strong>" not in home
    report_id, = db.execute("SELECT d.report_id FROM documents d GROUP BY d.report_id HAVING count(*) = 4 LIMIT 1").fetchone()
    urls = [u for u, in db.execute("SELECT url FROM documents WHERE report_id = ? ORDER BY id", [report_id])]
    page = get(data, f"/-/report/{report_id}").text
    shown = page[page.index("存档文件"):]
    assert shown.count('<div class="document">') == 2  # a page and its attachment, not four entries
    assert shown.count("也见于") == 2
    for url in urls:  # every address is still there: two as the file's own, two as "also seen at"
        assert f'href="{url}"' in shown
    _, body = get_json(data, f"/-/report/{report_id}.json")
    assert len(body["documents"]) == 2 and all(len(d["also_seen_at"]) == 1 for d in body["documents"])


def test_the_table_builder_reached_from_a_search_keeps_its_filters(crawled):
    data = crawled["data"]
    query = "q=复议&year=2023&agency=" + quote("科技局") + "&published_from=2023-01-01"
    _, searched = get_json(data, "/-/search.json?size=100&" + query)
    page = get(data, "/-/search?" + query).text
    link = re.search(r'class="tables-link" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    args = parse_qs(urlsplit(link).query)
    assert args["agency_name"] == ["科技局"] and args["published_from"] == ["2023-01-01"]
    built = get(data, link).text
    truth = {(e["agency"], e["year"]) for e in EXPECTED if e["year"] == 2023 and e["published"] >= "2023-01-01"
             and any(s in e["agency"] for s in SCIENCE)}
    assert truth and {(r["agency"], r["year"]) for r in searched["rows"]} == truth
    assert built.count('class="table-block"') == len(truth)
