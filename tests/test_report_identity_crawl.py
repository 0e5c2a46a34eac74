"""#27: a report's identity is what it says it is, through the real Scrapy engine (`nianbao crawl`) on a local
portal. The column is a county's (乌审旗, Inner Mongolia) 年报 column listing, as real county portals do, the
region's and the city's reports beside its own, an infographic of one of them, and two different articles that
both call themselves the county's 2018 report. Titles are those real portals printed (issue 27)."""

from __future__ import annotations

import json

from .conftest import nianbao
from .test_real_behaviour_crawl import MiniPortal, rows

ARTICLE = """<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">
<title>{title}_乌审旗人民政府</title></head><body>
<table class="xxgk_table"><tr><th>发布机构：</th><td>{agency}</td><th>成文日期：</th><td>{date}</td></tr></table>
<div class="TRS_Editor"><p>{title}</p><p>一、总体情况。{body}</p></div></body></html>"""

# list title, article title, 发布机构 on the article, body
ITEMS = {
    "t1.html": ("内蒙古自治区2018年政府信息公开工作年度报告", None, "内蒙古自治区人民政府办公厅", "2018年，自治区各级行政机关主动公开政府信息。"),
    "t2.html": ("鄂尔多斯市2018年政府信息公开年度报告", None, "鄂尔多斯市人民政府办公室", "2018年，全市主动公开政府信息。"),
    "t3.html": ("鄂尔多斯市2019年政府信息公开年度报告", None, "鄂尔多斯市人民政府办公室", "2019年，全市主动公开政府信息。"),
    "t4.html": ("图解：鄂尔多斯市2018年政府信息公开年度报告", None, "鄂尔多斯市人民政府办公室", "一张图看懂年报。"),
    "t5.html": ("一图读懂鄂尔多斯市2018年政府信息公…", "一图读懂鄂尔多斯市2018年政府信息公开年度报告",
                "鄂尔多斯市人民政府办公室", "一张图看懂年报。"),
    "t6.html": ("2018年政府信息公开工作年度报告", None, "乌审旗人民政府", "2018年，全旗主动公开政府信息1200条。"),
    "t7.html": ("2018年政府信息公开工作年度报告", None, "乌审旗人民政府", "2018年，我旗依申请公开办理36件（更正）。"),
}


def _portal_files() -> dict:
    listing = "".join(f'<li><a href="./{name}">{title}</a><span>2019-0{n + 1}-15</span></li>'
                      for n, (name, (title, *_)) in enumerate(ITEMS.items()))
    files = {"/zwgk/ndbg/index.html": f'<div class="list"><ul>{listing}</ul></div>'}
    for name, (title, own, agency, body) in ITEMS.items():
        files[f"/zwgk/ndbg/{name}"] = ARTICLE.format(title=own or title, agency=agency, date="2019-01-15", body=body)
    return files


def _reports(data) -> list[tuple]:
    return rows(data, "SELECT r.id, a.name, r.year, r.title, r.conflict_of, "
                      "(SELECT group_concat(d.url) FROM documents d WHERE d.report_id = r.id) "
                      "FROM reports r JOIN agencies a ON a.id = r.agency_id ORDER BY r.id")


def _identities(reports) -> list[tuple]:
    return sorted((agency, year, title, url.rsplit("/", 1)[1], conflict is not None)
                  for _, agency, year, title, conflict, url in reports)


def test_two_governments_reports_on_one_column_stay_two_records_and_no_infographic_is_a_report(tmp_path):
    with MiniPortal(tmp_path, _portal_files()) as mini:
        _, data = mini.crawl(tmp_path, "/zwgk/ndbg/index.html", name="乌审旗人民政府")
        first = _reports(data)
        mini.crawl(tmp_path, "/zwgk/ndbg/index.html", name="乌审旗人民政府")  # again, into the same archive
        _, fresh = mini.crawl(tmp_path, "/zwgk/ndbg/index.html", data=tmp_path / "fresh", name="乌审旗人民政府")

    assert _reports(data) == first  # repeated crawls neither add, move nor fold a report
    assert _identities(_reports(fresh)) == _identities(first)  # and a fresh archive holds the same ones
    assert _identities(first) == [
        ("乌审旗人民政府", 2018, "2018年政府信息公开工作年度报告", "t6.html", True),
        ("乌审旗人民政府", 2018, "2018年政府信息公开工作年度报告", "t7.html", True),
        ("内蒙古自治区", 2018, "内蒙古自治区2018年政府信息公开工作年度报告", "t1.html", False),
        ("鄂尔多斯市", 2018, "鄂尔多斯市2018年政府信息公开年度报告", "t2.html", False),
        ("鄂尔多斯市", 2019, "鄂尔多斯市2019年政府信息公开年度报告", "t3.html", False),
    ]
    # the two articles claiming the county's 2018 report: both kept, each marked as conflicting with the other
    county = {url.rsplit("/", 1)[1]: (rid, conflict) for rid, agency, _, _, conflict, url in first if agency == "乌审旗人民政府"}
    assert county["t7.html"][1] == county["t6.html"][0] and county["t6.html"][1] == county["t7.html"][0]
    # the infographics were never archived, as reports or as anything
    assert rows(data, "SELECT count(*) FROM documents WHERE url LIKE '%/t4.html' OR url LIKE '%/t5.html'") == [(0,)]
    exported = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    assert sorted((r["agency"], r["year"]) for r in exported) == [
        ("乌审旗人民政府", 2018), ("乌审旗人民政府", 2018), ("内蒙古自治区", 2018), ("鄂尔多斯市", 2018), ("鄂尔多斯市", 2019)]
    assert sum(1 for r in exported if r.get("conflict_of_report")) == 2
