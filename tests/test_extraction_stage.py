"""Extraction as a stage of its own: worker processes, time limits, recorded failures, reextract."""

from __future__ import annotations

import json
import shutil

from archive.extraction import extract_pending, extract_versions
from archive.store import Archive
from pipelines.extract import PARSER_VERSION

from .conftest import nianbao


def copy_archive(crawled, tmp_path):
    target = tmp_path / "archive"
    shutil.copytree(crawled["data"], target)
    return target


def test_reextract_reruns_every_version_offline_and_records_the_parser_version(crawled, tmp_path):
    data = copy_archive(crawled, tmp_path)
    archive = Archive(data)
    archive.db.execute("UPDATE versions SET parser_version = 'old', record = NULL, extract_status = 'pending'")
    archive.db.conn.commit()
    summary = json.loads(nianbao("reextract", "--data", data).stdout)
    versions = archive.db.execute("SELECT count(*) FROM versions").fetchone()[0]
    assert summary == {"extracted": versions, "failed": 0, "failures": []}
    assert {r[0] for r in archive.db.execute("SELECT DISTINCT parser_version FROM versions")} == {PARSER_VERSION}
    before = {(r["agency"], r["year"]): r["applications"] for r in crawled["records"]}
    after = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    assert {(r["agency"], r["year"]): r["applications"] for r in after} == before


def test_a_document_over_its_time_limit_is_a_recorded_failure(crawled, tmp_path):
    archive = Archive(copy_archive(crawled, tmp_path))
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
