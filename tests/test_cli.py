"""The public `nianbao` commands, run as a user runs them."""

from __future__ import annotations

import json
from collections import Counter

from .conftest import EXPECTED, ROOT, nianbao, seed_path

FRONT_DOOR = json.loads((ROOT / "nianbao" / "portal" / "frontdoor.json").read_text(encoding="utf-8"))


def test_extract_prints_the_canonical_record():
    result = nianbao("extract", seed_path("001"))
    record = json.loads(result.stdout)
    assert record["title"] == "嘉兴市科学技术局2020年度政府信息公开工作年度报告"
    assert record["active_disclosure"]["licensing"]["decisions"] == 2052
    assert len(record["source"]["sha256"]) == 64


def test_extract_unreadable_file_exits_non_zero_with_a_message(tmp_path):
    broken = tmp_path / "report.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    result = nianbao("extract", broken, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "report.pdf" in result.stderr and "PDF could not be opened" in result.stderr


def test_demo_then_export_lists_every_report_once(tmp_path):
    data = tmp_path / "demo"
    demo = nianbao("demo", "--no-serve", "--data", data, timeout=600)
    records = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    # the hand-written columns, and the township columns only discovery from the front door finds
    want = EXPECTED + FRONT_DOOR["reports"]
    assert Counter((r["agency"], r["year"]) for r in records) == Counter((e["agency"], e["year"]) for e in want)
    # sites.yml names the district's four columns; the walk leaves them to it and finds the townships'
    assert "350504: 3 column(s) in" in demo.stderr and "and 4 linked column(s) other registry entries crawl" in demo.stderr
    assert all(r["versions"] >= 1 and r["first_seen"] and r["url"].startswith("http://127.0.0.1:") for r in records)


def test_export_csv_has_one_row_per_report(crawled):
    lines = nianbao("export", "--data", crawled["data"], "--format", "csv").stdout.splitlines()
    assert lines[0].startswith("report_id,agency,province")
    assert len(lines) == 1 + len(EXPECTED)
