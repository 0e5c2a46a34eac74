"""Extraction as a stage of its own: worker processes, time limits, recorded failures, reextract."""

from __future__ import annotations

import json

from archive.extraction import extract_pending, extract_versions
from archive.store import Archive
from nianbao.summary import crawl_summary, needs_a_look, per_site, record_partial, record_run
from pipelines.extract import PARSER_VERSION

from .conftest import FILES, copy_archive, nianbao


def copied(crawled, tmp_path):
    return copy_archive(crawled["data"], tmp_path / "archive")


def test_reextract_reruns_every_version_offline_and_records_the_parser_version(crawled, tmp_path):
    data = copied(crawled, tmp_path)
    archive = Archive(data)
    archive.db.execute("UPDATE versions SET parser_version = 'old', record = NULL, extract_status = 'pending'")
    archive.db.conn.commit()
    summary = json.loads(nianbao("reextract", "--data", data).stdout)
    versions = archive.db.execute("SELECT count(*) FROM versions").fetchone()[0]
    partial = archive.db.execute("SELECT count(*) FROM versions WHERE extract_status = 'partial'").fetchone()[0]
    assert summary == {"extracted": versions, "partial": partial, "failed": 0, "failures": [],
                       "partial_reports_by_site": archive.partial_reports_by_site()}
    assert {r[0] for r in archive.db.execute("SELECT DISTINCT parser_version FROM versions")} == {PARSER_VERSION}
    before = {(r["agency"], r["year"]): r["applications"] for r in crawled["records"]}
    after = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    assert {(r["agency"], r["year"]): r["applications"] for r in after} == before


def test_a_document_over_its_time_limit_is_a_recorded_failure(crawled, tmp_path):
    archive = Archive(copied(crawled, tmp_path))
    jobs = archive.pending_versions(all_versions=True)[:3]
    stats = extract_versions(archive, jobs, time_limit=0.001)
    assert stats.failed == 3 and stats.ok == 0
    row = archive.db.execute("SELECT extract_status, extract_error FROM versions WHERE id = ?", [jobs[0]["id"]]).fetchone()
    assert row == ("failed", "time limit of 0.001s exceeded")


def test_unreadable_payload_is_kept_and_its_failure_recorded(tmp_path):
    archive = Archive(tmp_path / "a")
    report_id = archive.ensure_report("某市某局", 2023, "某市某局2023年政府信息公开工作年度报告")
    garbage = b"%PDF-1.7 not really" + bytes(range(256)) * 4
    version_id, new = archive.store_payload(report_id=report_id, url="http://x/a.pdf", role="attachment", data=garbage)
    assert new
    stats = extract_pending(archive)
    assert stats.failed == 1 and "PDF could not be opened" in stats.failures[0]["reason"]
    assert archive.blobs.get(archive.db["versions"].get(version_id)["sha256"]) == garbage  # never lost
    exported = [json.loads(line) for line in nianbao("export", "--data", tmp_path / "a").stdout.splitlines()]
    assert exported[0]["agency"] == "某市某局" and exported[0]["warnings"] == ["no document of this report could be read"]
    assert "applications" not in exported[0]


def _shanghai_page(drop_row: str | None = None) -> bytes:
    """The real-shaped 2019 report page (tests/files/reports), whole or with one row of table 三 cut out."""
    html = (FILES / "reports" / "shanghai_office_2019.html").read_text(encoding="utf-8")
    if drop_row:
        start = html.index(drop_row)
        row_start, row_end = html.rindex("<tr>", 0, start), html.index("</tr>", start) + len("</tr>")
        html = html[:row_start] + html[row_end:]
    return html.encode("utf-8")


def test_a_record_that_left_rows_out_is_partial_and_reextract_reads_it_again(tmp_path):
    data = tmp_path / "a"
    archive = Archive(data)
    site = {"id": "shanghai", "name": "上海市人民政府", "start_urls": []}
    archive.ensure_site(site)
    whole = archive.ensure_report("上海市人民政府办公厅", 2019, "2019年上海市人民政府办公厅政府信息公开工作年度报告", site)
    cut = archive.ensure_report("上海市某局", 2019, "2019年上海市某局政府信息公开工作年度报告", site)
    ok_id, _ = archive.store_payload(report_id=whole, url="http://x/whole.html", role="page", data=_shanghai_page())
    partial_id, _ = archive.store_payload(report_id=cut, url="http://x/cut.html", role="page",
                                          data=_shanghai_page(drop_row="二、上年结转政府信息公开申请数量"))
    stats = extract_pending(archive)
    assert (stats.ok, stats.partial, stats.failed) == (2, 1, 0)
    status = dict(archive.db.execute("SELECT id, extract_status FROM versions").fetchall())
    assert status == {ok_id: "ok", partial_id: "partial"}
    record = json.loads(archive.db["versions"].get(partial_id)["record"])
    assert record["coverage"]["applications"] == {"rows_read": 22, "rows_expected": 23, "cells_read": 154,
                                                  "cells_expected": 161}
    assert "carried_over" not in record["applications"]
    # the partial report is counted per site, in the crawl summary and in the run's stored counts
    assert archive.partial_reports_by_site() == {"shanghai": 1}
    stats_in = {"nianbao/site/shanghai/reports_found": 2}
    assert crawl_summary(stats_in, {}, 2, archive.partial_reports_by_site())["sites"]["shanghai"]["partial_reports"] == 1
    assert needs_a_look(per_site(stats_in, archive.partial_reports_by_site())["shanghai"])
    # reextract (same parser version) reads the partial version again, and only it
    archive.db.execute("UPDATE versions SET extracted_at = 'before'")
    archive.db.conn.commit()
    summary = json.loads(nianbao("reextract", "--data", data, "--workers", "1").stdout)
    assert (summary["extracted"], summary["partial"], summary["failed"]) == (1, 1, 0)
    assert summary["partial_reports_by_site"] == {"shanghai": 1}
    read_again = dict(archive.db.execute("SELECT id, extracted_at != 'before' FROM versions").fetchall())
    assert read_again == {ok_id: 0, partial_id: 1}
    # and the run's own record (run_sites) gains it once extraction is done
    run_id = archive.start_run("crawl", ["shanghai"])
    record_run(archive, run_id, stats_in)
    record_partial(data, run_id, archive.partial_reports_by_site())
    row = archive.db.execute("SELECT partial_reports FROM run_sites WHERE run_id = ? AND site_id = 'shanghai'",
                             [run_id]).fetchone()
    assert row == (1,)
