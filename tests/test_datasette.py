"""The Datasette site over the sample archive, in process (datasette.app.Datasette)."""

from __future__ import annotations

import asyncio
import re

import pytest
import yaml
from datasette.app import Datasette

from archive.serve import METADATA, PLUGINS, TEMPLATES
from archive.store import Archive

from .conftest import EXPECTED


def site(data_dir) -> Datasette:
    # immutable, as `nianbao serve` opens it: an immutable reader sees no WAL
    return Datasette(immutables=[str(data_dir / "nianbao.db")], metadata=yaml.safe_load(METADATA.read_text("utf-8")),
                     plugins_dir=str(PLUGINS), template_dir=str(TEMPLATES))


def get(data_dir, path):
    async def fetch():
        datasette = site(data_dir)
        try:
            return await datasette.client.get(path)
        finally:
            close(datasette)

    return asyncio.run(fetch())


def close(datasette: Datasette) -> None:
    """End the instance's query threads, and with them their SQLite connections: SQLite's heap limit
    (plugins/nianbao_limits.py) counts every connection in the process, so instances left open add up."""
    datasette.executor.shutdown(wait=True)


def get_json(data_dir, path):
    response = get(data_dir, path)
    return response.status_code, response.json()


def reference(data_dir, q, year=None):
    """The reports holding every term, by brute force over the same text: the answer search must give."""
    db = Archive(data_dir).db
    rows = db.query("SELECT report_id, year, title || char(10) || agency || char(10) || text AS body "
                    "FROM search_reports s JOIN search_texts t ON t.rowid = s.rowid WHERE s.is_latest = 1")
    terms = q.lower().split()
    return {r["report_id"] for r in rows if all(t in r["body"].lower() for t in terms) and year in (None, r["year"])}


def test_report_figures_view_lists_every_report(crawled):
    status, rows = get_json(crawled["data"], "/nianbao/report_figures.json?_shape=array&_size=max")
    assert status == 200
    assert len(rows) == len(EXPECTED)
    jiaxing = next(r for r in rows if r["agency"] == "嘉兴市科学技术局" and r["year"] == 2020)
    assert (jiaxing["applications_received"], jiaxing["granted"], jiaxing["total_processed"]) == (3, 3, 3)
    assert jiaxing["province"] == "浙江省"


def test_failing_reports_facet(crawled):
    status, rows = get_json(crawled["data"], "/nianbao/report_figures.json?_shape=array&check_status=fail")
    assert {(r["agency"], r["year"]) for r in rows} == {
        (e["agency"], e["year"]) for e in EXPECTED if e["must_fail"]
    }


@pytest.mark.parametrize("q, agencies", [
    ("赣", {"赣州市科技局"}),                     # one character
    ("南关", {"南关区科技局"}),                    # two characters
    ("嘉兴市", {"嘉兴市科学技术局"}),               # three characters
    ("泉州 卫生", {"泉州市洛江区卫生健康局"}),        # two terms
])
def test_search_any_length_returns_exactly_the_expected_reports(crawled, q, agencies):
    status, body = get_json(crawled["data"], f"/-/search.json?q={q}")
    assert status == 200
    got = {r["report_id"] for r in body["rows"]}
    assert got == reference(crawled["data"], q)
    assert {r["agency"] for r in body["rows"]} == agencies
    assert len(got) == sum(1 for e in EXPECTED if e["agency"] in agencies)
    assert all("<mark>" in r["snippet"] for r in body["rows"])


def test_two_character_query_found_in_every_report_and_filtered_by_year(crawled):
    from archive.search import PAGE

    _, everything = get_json(crawled["data"], "/-/search.json?q=复议")
    every_report = reference(crawled["data"], "复议")
    assert len(every_report) == len(EXPECTED)
    assert len(everything["rows"]) == min(len(EXPECTED), PAGE)  # one page of results
    assert {r["report_id"] for r in everything["rows"]} <= every_report
    _, in_2021 = get_json(crawled["data"], "/-/search.json?q=复议&year=2021")
    assert {r["report_id"] for r in in_2021["rows"]} == reference(crawled["data"], "复议", year=2021)
    assert {r["year"] for r in in_2021["rows"]} == {2021}


def test_search_page_and_report_page_render(crawled):
    page = get(crawled["data"], "/-/search?q=行政复议").text
    assert "<mark>行政复议</mark>" in page and "/-/report/" in page
    _, body = get_json(crawled["data"], "/-/search.json?q=嘉兴市 2020")
    report_id = next(r["report_id"] for r in body["rows"] if r["year"] == 2020)
    html = get(crawled["data"], f"/-/report/{report_id}").text
    assert 'data-key="applications.granted.natural_person">3<' in html
    assert "本年新收+上年结转=办理结果总计+结转下年度（自然人）" in html and "applications.balance" not in html and "/-/blob/" in html and "<svg" in html


def test_blob_served_byte_for_byte(crawled):
    db = Archive(crawled["data"]).db
    sha256, size = db.execute("SELECT sha256, size FROM blobs WHERE media_type = 'application/pdf' LIMIT 1").fetchone()
    response = get(crawled["data"], f"/-/blob/{sha256}")
    assert response.status_code == 200 and len(response.content) == size and response.content.startswith(b"%PDF")


def test_canned_queries_answer(crawled):
    _, failing = get_json(crawled["data"], "/nianbao/failing_checks.json?_shape=array")
    balance = [r for r in failing if r["check_id"] == "applications.balance" and r["scope"] == "natural_person"]
    assert balance and balance[0]["actual"] == balance[0]["expected"] + 1
    _, years = get_json(crawled["data"], "/nianbao/agency_over_years.json?_shape=array&agency=嘉兴市科学技术局")
    assert [r["year"] for r in years] == list(range(2019, 2025))
    _, top = get_json(crawled["data"], "/nianbao/most_requests.json?_shape=array&year=2023")
    received = "本年新收申请 applications_received"
    assert top and top[0][received] == max(r[received] for r in top if r[received] is not None)


def test_atom_feed_of_new_and_changed_reports(crawled):
    response = get(crawled["data"], "/nianbao/feed.atom")
    assert response.status_code == 200 and response.text.count("<entry>") == len(EXPECTED)  # one per report
    links = re.findall(r'<link href="([^"]+)"', response.text)
    assert links and all(link.startswith("http://") for link in links)


def test_region_chart_sums_the_region_by_year(crawled):
    _, body = get_json(crawled["data"], "/-/region.json?province=浙江省")
    assert [h["year"] for h in body["history"]] == list(range(2019, 2025))
    _, rows = get_json(crawled["data"], "/nianbao/report_figures.json?_shape=array&province=浙江省&year=2020")
    assert body["history"][1]["applications_received"] == sum(r["applications_received"] for r in rows)
    assert "<svg" in get(crawled["data"], "/-/region?province=浙江省").text


def test_every_canonical_key_is_described(crawled):
    _, keys = get_json(crawled["data"], "/nianbao/canonical_keys.json?_shape=array&_size=max")
    described = {(k["report_table"], k["row_key"], k["column_key"]) for k in keys}
    _, cells = get_json(crawled["data"], "/nianbao.json?_shape=array&sql=select+distinct+report_table,row_key,column_key+from+cells")
    assert {(c["report_table"], c["row_key"], c["column_key"]) for c in cells} <= described
    granted = next(k for k in keys if k["row_key"] == "granted" and k["column_key"] == "natural_person")
    assert granted["label_zh"] == "（一）予以公开：自然人"


def test_two_character_terms_match_adjacent_characters_only(tmp_path):
    """A 2-character term is a substring, as a reader means it: 复议 is not 复，议 nor 复\\n议 across a line."""
    import sqlite_utils

    from archive import search

    texts = {1: "申请行政复议2件。", 2: "予以答复，议定事项已公开。", 3: "办理答复\n议案办理情况", 4: "人大代表建议政协提案"}
    db = sqlite_utils.Database(tmp_path / "s.db")
    search.create(db)
    for rowid, text in texts.items():
        db.execute(f"INSERT INTO search_reports VALUES ({','.join('?' * 15)})",
                   [rowid, rowid, rowid, 1, "某局", 2021, None, None, None, f"年报{rowid}", "2021", "pass", "", "", None])
        db.execute("INSERT INTO search_texts VALUES (?, ?)", [rowid, text])
    search.index(db)
    for q, expected in (("复议", {1}), ("议政", {4}), ("复", {1, 2, 3}), ("议 复", {1, 2, 3})):
        assert {r["report_id"] for r in search.search_page(db.conn, q).rows} == expected, q
        assert {i for i, t in texts.items() if all(term in t for term in q.split())} == expected


def test_datasette_interface_text_is_chinese_first(crawled):
    page = get(crawled["data"], "/nianbao/report_figures").text
    for english, chinese in (("Apply", "应用 Apply"), ("View and edit SQL", "查看并编辑 SQL"), ("home", "首页 home")):
        assert chinese in page, english
    assert 'value="Apply"' not in page and ">home<" not in page
