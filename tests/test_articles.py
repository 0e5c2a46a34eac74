"""Article pages of the CMS families, written by hand from documented real markup (never from our
generator): the report is read from the CMS's content area, title, agency, year and date from the
page's metadata or the report's own lines, never from the breadcrumb or the menus."""

from __future__ import annotations

import pytest

from pipelines.extract import extract
from pipelines.parse import meta
from pipelines.readers import read

from .conftest import FILES

ARTICLES = FILES / "articles"

CASES = {
    # file: (title, agency, year, published, a figure of table 二)
    "trs_article.html": ("泉州市洛江区科学技术局2023年政府信息公开工作年度报告", "泉州市洛江区科学技术局", 2023,
                         "2024-01-22", ("licensing", "decisions", 550)),
    "hanweb_article.html": ("宁国市商务局2023年政府信息公开工作年度报告", "宁国市商务局", 2023, "2024-01-25",
                            ("fees", "amount_wan_yuan", 12.5)),
    "vsb_article.htm": ("2022年政府信息公开工作年度报告", "南京市某某区科学技术局", 2022, "2023-01-16",
                        ("penalty", "decisions", 9)),
    "ucap_article.html": ("吕梁市文水县人民政府2023年政府信息公开工作年度报告", "吕梁市文水县人民政府", 2023, "2024-03-28",
                          ("licensing", "decisions", 1864)),
    "gkmlpt_article.html": ("深圳市南山区科技创新局2023年政府信息公开工作年度报告", "深圳市南山区科技创新局", 2023,
                            "2024-01-22", ("licensing", "decisions", 208)),
    "generic_article.html": ("永春县某某镇人民政府2023年政府信息公开工作年度报告", "永春县某某镇人民政府", 2023,
                             "2024-01-18", ("licensing", "decisions", 12)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_title_agency_year_and_date_come_from_the_document_not_the_chrome(name):
    title, agency, year, published, (row, column, value) = CASES[name]
    rec = extract((ARTICLES / name).read_bytes(), name=name)
    assert (rec["title"], rec["agency"], rec["year"], rec["published"]) == (title, agency, year, published)
    assert "当前位置" not in rec["title"] and "首页" not in rec["title"]
    assert rec["active_disclosure"][row][column] == value


def test_the_breadcrumb_never_reaches_the_text_of_a_cms_page():
    doc = read((ARTICLES / "trs_article.html").read_bytes(), "trs_article.html")
    assert not any("当前位置" in getattr(b, "text", "") for b in doc.blocks)
    assert "主办单位" not in doc.full_text()


def test_annotated_cell_is_its_figure():
    rec = extract((ARTICLES / "trs_article.html").read_bytes(), name="trs_article.html")
    assert rec["active_disclosure"]["normative_documents"] == {"made": 2, "repealed": 1, "in_force": 22}
    # what was printed stays, for the archive's raw cell
    assert rec["raw_cells"] == {"active_disclosure.normative_documents.in_force": "22（其中修订16件）"}


def test_signature_date_in_chinese_numerals():
    doc = read((ARTICLES / "hanweb_article.html").read_bytes(), "hanweb_article.html")
    assert meta.signature_date(doc.blocks) == "2024-01-20"  # 二〇二四年一月二十日
    assert meta.signature_agency(doc.blocks) == "宁国市商务局"


def test_a_related_report_link_is_not_the_title():
    rec = extract((ARTICLES / "ucap_article.html").read_bytes(), name="ucap_article.html")
    assert rec["year"] == 2023  # the related-links list names the 2022 report


def test_the_archive_keeps_the_printed_text_of_an_annotated_cell():
    from archive.store import cells_of

    rec = extract((ARTICLES / "trs_article.html").read_bytes(), name="trs_article.html")
    cell = next(c for c in cells_of(1, rec) if (c["row_key"], c["column_key"]) == ("normative_documents", "in_force"))
    assert (cell["number"], cell["raw"]) == (22, "22（其中修订16件）")


def test_a_full_report_in_hanweb_zoom_with_empty_header_cells():
    """Table 三 and 四 headers leave empty cells under 自然人, 总计 and 行政复议 instead of spanning them."""
    rec = extract((ARTICLES / "hanweb_zoom_full_tables.html").read_bytes(), name="hanweb_zoom_full_tables.html")
    assert (rec["title"], rec["year"], rec["template"]) == ("某市2024年政府信息公开工作年度报告", 2024, "2021")
    assert rec["active_disclosure"]["licensing"] == {"decisions": 1250331}
    apps = rec["applications"]
    assert apps["granted"] == {"natural_person": 160, "commercial": 9, "research": 1, "social_welfare": 1,
                               "legal_service": 2, "other_org": 1, "total": 174}
    assert apps["other_misc"]["total"] == 18 and apps["carried_forward"]["total"] == 18
    assert rec["review_litigation"]["litigation_after_review"] == {"upheld": 3, "corrected": 0, "other": 0,
                                                                  "pending": 2, "total": 5}
    assert {c["status"] for c in rec["checks"]} == {"pass"}
    assert rec["warnings"] == []
    assert rec["sections"]["problems"].startswith("对照新要求")  # 五、存在问题及改进情况
