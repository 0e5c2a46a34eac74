"""The five seed reports: every figure the seeds README lists, template, year and checks.

The seeds and their README are read where they lie (../shared/seeds), never copied.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from pipelines.extract import extract

from .conftest import SEEDS, seed_path


def readme_table() -> dict[str, dict]:
    """The README's table: prefix -> agency, year, template, as a person wrote them."""
    rows = {}
    for line in (SEEDS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.match(r"\d{3}_", cells[0]):
            agency, year = re.match(r"(\S+?),.*?(20\d{2})", cells[1]).groups()
            rows[cells[0][:3]] = {"agency": agency, "year": int(year), "template": cells[2]}
    return rows


def record(prefix: str) -> dict:
    path = seed_path(prefix)
    return extract(path.read_bytes(), name=path.name)


def statuses(rec: dict, check_id: str) -> Counter:
    return Counter(c["status"] for c in rec["checks"] if c["id"] == check_id)


def test_000_ganzhou_pdf_text_lost_cells_are_flagged_not_shifted():
    rec = record("000")
    # the title says 赣州市科技局; the line above it and the signature give the full name
    assert (rec["agency"], rec["year"], rec["template"]) == ("赣州市科学技术局", 2020, "2019")
    active = rec["active_disclosure"]
    assert active["normative_documents"] == {"new_made": 7, "new_published": 7, "total_published": 32}
    assert active["other_services"] == {"prev_items": 1, "change": 0, "decisions": 0}
    assert active["procurement"] == {"items": 1, "amount_yuan": 137000}
    # 予以公开, 部分公开 … lost two of seven cells: no key, a warning, never shifted values.
    assert "granted" not in rec["applications"]
    assert any(w.startswith("applications.granted: 5 cells for 7 columns") for w in rec["warnings"])
    assert rec["applications"]["new_received"]["total"] == 0
    assert statuses(rec, "applications.balance") == Counter(not_assessable=7)
    # Table 四 header typo 结果维护 does not matter: 15 cells, all zero.
    assert rec["review_litigation"]["litigation_after_review"] == dict.fromkeys(
        ("upheld", "corrected", "other", "pending", "total"), 0)
    assert statuses(rec, "review_litigation.group_total") == Counter(**{"pass": 3})
    assert rec["published"] == "2021-01-26"


def test_001_jiaxing_word_table_text_with_nonzero_figures():
    rec = record("001")
    assert (rec["agency"], rec["year"], rec["template"]) == ("嘉兴市科学技术局", 2020, "2019")
    active = rec["active_disclosure"]
    assert active["normative_documents"] == {"new_made": 4, "new_published": 4, "total_published": 8}
    assert active["licensing"] == {"prev_items": 1, "change": 0, "decisions": 2052}
    assert active["procurement"] == {"items": 27, "amount_yuan": 129600}
    apps = rec["applications"]
    assert apps["new_received"]["natural_person"] == 3 and apps["new_received"]["total"] == 3
    assert (apps["granted"]["natural_person"], apps["granted"]["total"]) == (3, 3)
    assert (apps["total_processed"]["natural_person"], apps["total_processed"]["total"]) == (3, 3)
    assert apps["new_received"]["commercial"] == 0
    assert {c["status"] for c in rec["checks"]} == {"pass"}
    assert len(rec["checks"]) == 7 + 7 + 23 + 3
    assert rec["warnings"] == []


def test_002_nanguan_template_from_headers_and_year_mismatch_warned():
    rec = record("002")
    assert rec["template"] == "2021"  # the title says 2020
    assert rec["year"] == 2020
    assert "year mismatch: title says 2020, text says 2021" in rec["warnings"]
    active = rec["active_disclosure"]
    assert active["regulations"] == {"made": 0, "repealed": 0, "in_force": 0}
    assert active["fees"] == {"amount_wan_yuan": 0}
    new = rec["applications"]["new_received"]
    # blank cells next to totals are null, never 0
    assert new == {"natural_person": None, "commercial": None, "research": None, "social_welfare": None,
                   "legal_service": None, "other_org": None, "total": 0}
    assert rec["review_litigation"]["review"] == {"upheld": None, "corrected": None, "other": None,
                                                 "pending": None, "total": 0}
    assert "other" not in rec["sections"]  # no section 六
    assert statuses(rec, "applications.balance")["pass"] == 1  # only the total column is complete


def test_003_luojiang_stray_tab_does_not_shift_the_carried_over_row():
    rec = record("003")
    # the title says 洛江区科学技术局; the signature gives the fullest form
    assert (rec["agency"], rec["year"], rec["template"]) == ("泉州市洛江区科学技术局", 2020, "2019")
    active = rec["active_disclosure"]
    assert active["normative_documents"] == {"new_made": 0, "new_published": 0, "total_published": 2}
    assert active["other_services"] == {"prev_items": 15, "change": 0, "decisions": 0}
    assert rec["applications"]["carried_over"] == dict.fromkeys(
        ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total"), 0)
    assert statuses(rec, "applications.balance") == Counter(**{"pass": 7})
    # table 四 headers broken into single characters
    assert rec["review_litigation"]["review"]["total"] == 0
    assert rec["published"] == "2021-01-05"


def test_004_jingdezhen_renumbered_sections_and_word_artefacts():
    rec = record("004")
    assert (rec["agency"], rec["year"], rec["template"]) == ("景德镇市科技局", 2021, "2021")
    active = rec["active_disclosure"]
    assert active["normative_documents"] == {"made": 2, "repealed": 5, "in_force": 10}  # [bookmark: _GoBack]2
    assert active["licensing"] == {"decisions": 23}
    assert active["fees"] == {"amount_wan_yuan": 0}  # full-width space before the 0
    apps = rec["applications"]
    for key in ("other_no_correction", "other_no_fee", "other_misc"):
        assert apps[key]["total"] == 0
    assert {c["status"] for c in rec["checks"]} == {"pass"}
    # the extra 二 inside 总体情况 stays inside it
    assert "我局认真按照市政府" in rec["sections"]["overall"]
    assert "主动公开政府信息的数量和主要类别" in rec["sections"]["overall"]
    assert rec["sections"]["other"].startswith("2021年度景德镇市科学技术局无收取信息处理费情况")


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_seed_has_all_three_tables_and_sections(prefix):
    rec = record(prefix)
    for key in ("active_disclosure", "applications", "review_litigation"):
        assert rec[key], key
    assert rec["sections"]["overall"] and rec["sections"]["problems"]
    assert rec["source"]["format"] == "text"


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_agency_year_and_template_as_the_readme_gives_them(prefix):
    expected = readme_table()[prefix]
    rec = record(prefix)
    assert rec["template"] == expected["template"]
    if prefix == "002":
        # README: "title says 2020 but the text says 2021"; the document never names 长春市,
        # so the agency is the name it does print.
        assert expected["agency"].endswith(rec["agency"]) and rec["agency"] == "南关区科技局"
        assert rec["year"] == 2020
    else:
        assert (rec["agency"], rec["year"]) == (expected["agency"], expected["year"])


# The README's own words for rows, mapped to record keys by hand (independent of pipelines/labels.py).
README_ROWS = {"规范性文件": "normative_documents", "其他对外管理服务事项": "other_services", "行政许可": "licensing"}


def readme_expectations() -> dict[str, list[str]]:
    """prefix -> the README's 'Expected values' clauses, as written."""
    text = (SEEDS / "README.md").read_text(encoding="utf-8").split("Expected values", 1)[1]
    out: dict[str, list[str]] = {}
    for item in re.split(r"\n- ", "\n" + text):
        match = re.match(r"(\d{3}):\s*(.*)", " ".join(item.split()), re.S)
        if match:
            out[match.group(1)] = [c.strip(" .") for c in match.group(2).split(";") if c.strip(" .")]
    return out


def _numbers(record: dict):
    for table in ("active_disclosure", "applications", "review_litigation"):
        for row, cells in record.get(table, {}).items():
            if isinstance(cells, dict):
                yield from ((table, row, col, v) for col, v in cells.items())


def check_clause(rec: dict, clause: str) -> None:
    active, apps = rec["active_disclosure"], rec["applications"]
    match = re.fullmatch(r"(\S+?)(?: \([a-z_/]+\))? (\d+(?:/\d+)*)", clause)
    if match and match.group(1) in README_ROWS:
        row = README_ROWS[match.group(1)]
        assert [v for v in active[row].values()][-len(match.group(2).split("/")):] == \
            [int(n) for n in match.group(2).split("/")], clause
    elif match := re.fullmatch(r"政府集中采购 (\d+) items, (\d+) 元", clause):
        assert active["procurement"] == {"items": int(match.group(1)), "amount_yuan": int(match.group(2))}, clause
    elif match := re.fullmatch(r"fees (\d+)", clause):
        assert set(active["fees"].values()) == {int(match.group(1))}, clause
    elif clause == "everything 0":
        assert all(v in (0, None) for *_, v in _numbers(rec)), clause
    elif clause.startswith("applications "):
        for part in clause.removeprefix("applications ").split(", "):
            row, *rest = part.split(" ")
            if len(rest) == 1:  # granted 3/3: natural_person / total
                rest = ["natural_person", rest[0].split("/")[0], "total", rest[0].split("/")[1]]
            for column, value in zip(rest[::2], rest[1::2]):
                assert apps[row][column] == int(value), (clause, row, column)
    else:
        raise AssertionError(f"README clause not understood: {clause}")


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_figure_the_readme_pins(prefix):
    clauses = readme_expectations()[prefix]
    assert clauses
    rec = record(prefix)
    for clause in clauses:
        check_clause(rec, clause)
