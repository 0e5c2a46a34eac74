"""The one recognition module (pipelines/recognition.py), as the crawler and ``extract`` both use it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler import recognition as crawler_recognition
from pipelines import recognition
from pipelines.extract import extract
from pipelines.readers.metadata import fields, normalised

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = Path(__file__).parent / "files" / "articles"


def test_extract_takes_the_agency_of_a_du_title_from_the_signature():
    """2023年度… names no agency: 度 is never one; the report is signed 某县教育局 at its foot."""
    result = subprocess.run([sys.executable, "-m", "nianbao.cli", "extract", str(ARTICLES / "du_signed_article.html")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    record = json.loads(result.stdout)
    assert (record["title"], record["agency"], record["year"]) == ("2023年度政府信息公开工作年度报告", "某县教育局", 2023)
    assert record["published"] == "2024-01-20"
    assert record["verdict"] == "report"


def test_the_crawler_uses_the_pipelines_rules():
    assert crawler_recognition.title_agency is recognition.title_agency
    assert crawler_recognition.skip_reason is recognition.skip_reason
    assert not any(name in vars(crawler_recognition) for name in ("_YEAR", "_AGENCY_END", "_NOT_REPORT"))


@pytest.mark.parametrize("title", ["2023年度政府信息公开工作年度报告", "2023年政府信息公开工作年度报告", "年度政府信息公开年报"])
def test_never_du_nor_a_bare_year_word(title):
    assert recognition.title_agency(title) is None


@pytest.mark.parametrize("title, agency", [
    ("内蒙古自治区2018年政府信息公开工作年度报告", "内蒙古自治区"),
    ("鄂尔多斯市2018年政府信息公开年度报告", "鄂尔多斯市"),
    ("西藏自治区政府国资委2020政府信息公开工作年度报告", "西藏自治区政府国资委"),
    ("乌审旗2019年政府信息公开工作年度报告", "乌审旗"),
])
def test_a_government_named_before_the_year_is_the_agency(title, agency):
    assert recognition.title_agency(title) == agency


@pytest.mark.parametrize("title, kind", [
    ("图解：示范市2023年政府信息公开工作年度报告", "graphic"),
    ("一图读懂某县2023年政府信息公开工作年度报告", "graphic"),
    ("《某市2023年政府信息公开工作年度报告》解读", "interpretation"),
    ("某县人民政府2023年政府信息公开工作年度报告政策解读", "interpretation"),
    ("关于报送2023年政府信息公开工作年度报告的通知", "notice"),
    ("某市2023年度法治政府建设情况报告", "rule_of_law"),
    ("某县2023年政府信息公开工作年度报告统计表", "statistics"),
    ("2023年政府信息公开工作年度报告编制和发布部署会", "notice"),
    ("遵义市统计局2022年政府信息公开工作年度报告", "report"),
    ("某县2023年政府信息公开工作年度报告（更正版）", "report"),
])
def test_a_verdict_on_every_title(title, kind):
    assert recognition.title_verdict(title).kind == kind
    assert (crawler_recognition.skip_reason(title) is None) == (kind == "report")


@pytest.mark.parametrize("line, field, value", [
    ("标 题 | 西藏自治区政府国资委2020政府信息公开工作年度报告 | ||", "title", "西藏自治区政府国资委2020政府信息公开工作年度报告"),
    ("称: 六安市金安区人民政府2024年政府信息公开工作年度报告", "title", "六安市金安区人民政府2024年政府信息公开工作年度报告"),
    ("日期\n2024-01-31", "published", "2024-01-31"),
    ("发布日期 | 2021-04-09 17:05:00 |", "published", "2021-04-09"),
    ("撰写时间：2024年1月15日", "published", "2024-01-15"),
    ("浏览次数:信息来源: 市政府办发布时间:2024-02-28 17:45", "published", "2024-02-28"),
])
def test_metadata_rows_and_blocks(line, field, value):
    assert normalised(fields(line))[field] == value


def test_an_effective_date_is_never_the_publication_date():
    assert "published" not in normalised(fields("生效日期：2024-03-01\n废止时间：2029-03-01"))
    assert normalised(fields("生效日期：2024-03-01  发布日期：2024-01-05"))["published"] == "2024-01-05"


def test_a_frozen_clock_is_no_date():
    assert recognition.parse_date("2019年12月3日星期二") is None
    assert recognition.parse_date("2019-12-03 星期二") is None
    assert recognition.parse_date("二〇二四年一月二十日") == "2024-01-20"
    assert recognition.parse_date("2023/01/18 11:34:01") == "2023-01-18"


@pytest.mark.parametrize("text", [
    "文号:所属主题:某县2023年政府信息公开工作年度报告",
    "标题|西藏自治区政府国资委2020政府信息公开工作年度报告|||",
    "根据《中华人民共和国政府信息公开条例》规定，现公布2023年政府信息公开工作年度报告",
])
def test_metadata_rows_and_sentences_are_never_a_title(text):
    assert not recognition.could_be_title(text)


def test_the_opening_sentence_names_the_report():
    said = recognition.opening_identity(
        "根据《中华人民共和国政府信息公开条例》规定，现将绥阳县人民政府2023年政府信息公开工作年度报告予以公布。")
    assert said == {"agency": "绥阳县人民政府", "year": 2023, "title": "绥阳县人民政府2023年政府信息公开工作年度报告"}
    assert recognition.opening_identity("本报告由某乡人民政府按照《条例》要求编制。")["agency"] == "某乡人民政府"


def test_traditional_script_is_read():
    record = extract("西藏自治區人民政府2009年政府信息公開年度報告\n本報告根據《中華人民共和國政府信息公開條例》編制。\n"
                     "一、總體情況\n".encode(), name="t.txt")
    assert (record["title"], record["agency"], record["year"]) == ("西藏自治区人民政府2009年政府信息公开年度报告",
                                                                   "西藏自治区人民政府", 2009)
    assert any("traditional script" in w for w in record["warnings"])


def test_import_refuses_a_look_alike(tmp_path):
    notice = tmp_path / "notice.txt"
    notice.write_text("关于做好2023年政府信息公开工作年度报告编制发布工作的通知\n各乡镇人民政府、县直各部门：\n"
                      "现就有关事项通知如下：\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "nianbao.cli", "import", "--data", str(tmp_path / "data"), str(notice)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "not an annual report (notice)" in result.stderr
    assert sqlite3.connect(tmp_path / "data" / "nianbao.db").execute("SELECT count(*) FROM reports").fetchone() == (0,)


def test_a_place_in_the_title_is_its_government_as_spelt_elsewhere():
    site = {"id": "wsq", "name": "乌审旗人民政府"}
    resolve = crawler_recognition.resolve_agency
    assert resolve("乌审旗2018年政府信息公开工作年度报告", {}, site) == "乌审旗人民政府"  # one government, one agency
    assert resolve("鄂尔多斯市2018年政府信息公开年度报告", {"发布机构": "鄂尔多斯市人民政府办公室"}, site) == "鄂尔多斯市"
    assert resolve("鄂尔多斯市2019年政府信息公开年度报告", {"发布机构": "鄂尔多斯市人民政府"}, site) == "鄂尔多斯市人民政府"
    assert resolve("2018年政府信息公开工作年度报告", {}, site) == "乌审旗人民政府"


def test_a_path_is_never_a_title_but_markup_text_after_one_is_no_path():
    # a file's place (ASCII either side of the slash) is a metadata row; escaped markup a hostile page put
    # after a real title is text, shown escaped by the site, and the title stays
    assert not recognition.could_be_title("/zfxxgk/ndbg/2023年政府信息公开工作年度报告.html")
    assert not recognition.could_be_title("附件:2023年政府信息公开工作年度报告")
    assert recognition.could_be_title("某市某某局2023年政府信息公开工作年度报告<script>alert('x')</script>")
