"""The archive: versions only when bytes change, change records, WARC, fixity, imports, schema docs."""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess
import sys
from collections import defaultdict

from freezegun import freeze_time
from warcio.archiveiterator import ArchiveIterator

from archive.changes import record_changes
from archive.extraction import extract_pending
from archive.schema_doc import END, START, markdown
from archive.store import Archive
from archive.warc import Exchange
from sampleportal.render import pdf_bytes
from sampleportal.reports import Planned, synthetic_report

from .conftest import EXPECTED, FAST, ROOT, SAMPLE_SITES, copy_archive, nianbao

URL = "http://www.example.gov.cn/zfxxgk/ndbg/P020240115.pdf"


def report_pdf(change_granted: int = 0) -> bytes:
    import random

    report, _ = synthetic_report(Planned("某市科学技术局", 2023, "pdf"), random.Random(11))
    if change_granted:
        report = copy.deepcopy(report)
        report.record["applications"]["granted"]["natural_person"] += change_granted
    return pdf_bytes(report)


def store(archive, data, when):
    with freeze_time(when):
        report_id = archive.ensure_report("某市科学技术局", 2023, "某市科学技术局2023年政府信息公开工作年度报告")
        return archive.store_payload(report_id=report_id, url=URL, role="attachment", data=data, fmt="pdf")


def test_same_bytes_twice_is_one_version_with_last_seen_moved(tmp_path):
    archive = Archive(tmp_path)
    data = report_pdf()
    first, new1 = store(archive, data, "2024-02-01 03:00:00")
    second, new2 = store(archive, data, "2024-03-01 03:00:00")
    assert (new1, new2) == (True, False) and first == second
    row = archive.db["versions"].get(first)
    assert row["first_seen"].startswith("2024-02-01") and row["last_seen"].startswith("2024-03-01")
    assert archive.db["versions"].count == 1 and archive.db["blobs"].count == 1


def test_changed_bytes_are_a_new_version_with_the_changed_cell_recorded(tmp_path):
    archive = Archive(tmp_path)
    old, _ = store(archive, report_pdf(), "2024-02-01 03:00:00")
    new, is_new = store(archive, report_pdf(change_granted=2), "2024-04-01 03:00:00")
    assert is_new and new != old
    extract_pending(archive)
    assert archive.db["versions"].count == 2 and archive.db["blobs"].count == 2
    changes = list(archive.db.query("SELECT * FROM cell_changes WHERE version_id = ?", [new]))
    changed = {(c["report_table"], c["row_key"], c["column_key"]) for c in changes}
    # the cell and the totals the agency's new figure moves; nothing else
    assert ("applications", "granted", "natural_person") in changed
    granted = next(c for c in changes if c["row_key"] == "granted" and c["column_key"] == "natural_person")
    assert int(granted["new"]) == int(granted["old"]) + 2
    assert all(c["report_table"] == "applications" for c in changes)
    summary = archive.db["version_changes"].get(new)
    assert summary["previous_version_id"] == old and summary["cells_changed"] == len(changes)
    assert summary["text_diff"].startswith("--- previous")
    assert record_changes(archive.db) == 0  # done once


def test_page_and_pdf_attachment_are_one_report_with_two_documents(crawled):
    db = sqlite3.connect(crawled["data"] / "nianbao.db")
    pdf_reports = [e for e in EXPECTED if e["format"] == "pdf"]
    for e in pdf_reports:
        rows = db.execute(
            "SELECT d.role, d.format, r.source_reason FROM documents d JOIN reports r ON r.id = d.report_id "
            "JOIN agencies a ON a.id = r.agency_id WHERE a.name = ? AND r.year = ?", [e["agency"], e["year"]]
        ).fetchall()
        assert sorted(r[0] for r in rows) == ["attachment", "page"], e["title"]
        assert "pdf attachment" in rows[0][2]  # the figures came from the PDF, and the record says so


def test_verify_catches_a_blob_altered_on_disk(crawled, tmp_path):
    data = tmp_path / "a"
    copy_archive(crawled["data"], data)
    assert nianbao("verify", "--data", data).returncode == 0
    sha256 = sqlite3.connect(data / "nianbao.db").execute("SELECT sha256 FROM blobs LIMIT 1").fetchone()[0]
    blob = data / "blobs" / sha256[:2] / sha256[2:4] / sha256
    blob.write_bytes(blob.read_bytes()[:-1] + b"X")
    result = nianbao("verify", "--data", data, check=False)
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems == [{"kind": "blob", "sha256": sha256, "problem": "content does not match its sha256"}]


def warc_files(data):
    return sorted((data / "warcs").glob("*.warc.gz"))


def test_crawl_warc_passes_warcio_check_and_index(crawled):
    for path in warc_files(crawled["data"]):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
        index = subprocess.run([sys.executable, "-m", "warcio.cli", "index", str(path)], capture_output=True, text=True)
        assert index.returncode == 0 and index.stdout.count("\n") >= 2 * len(EXPECTED)
    cdxj = (crawled["data"] / "warcs" / "index.cdxj").read_text().splitlines()
    assert len(cdxj) >= len(EXPECTED) and cdxj == sorted(cdxj)


def test_revisit_records_point_at_their_originals(crawled, portal, tmp_path):
    """Every known document asked again (NIANBAO_RECHECK_DAYS=1) and answered 304 is a revisit record (server not
    modified); every list page, asked in full on that setting and sent again unchanged, one too (identical payload)."""
    data = tmp_path / "again"
    copy_archive(crawled["data"], data)
    nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "-s", "NIANBAO_RECHECK_DAYS=1",
            *FAST)
    originals, profiles = {}, defaultdict(list)
    for path in warc_files(data):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                h = record.rec_headers
                if h.get_header("WARC-Type") == "response":
                    originals[h.get_header("WARC-Record-ID")] = h.get_header("WARC-Target-URI")
                elif h.get_header("WARC-Type") == "revisit":
                    profiles[h.get_header("WARC-Profile").rsplit("/", 1)[1]].append(h.get_header("WARC-Target-URI"))
                    refers = h.get_header("WARC-Refers-To")
                    assert originals[refers] == h.get_header("WARC-Target-URI") == h.get_header("WARC-Refers-To-Target-URI")
    db = sqlite3.connect(data / "nianbao.db")
    documents = {url for (url,) in db.execute("SELECT url FROM documents")}
    assert sorted(profiles["server-not-modified"]) == sorted(documents)
    assert profiles["identical-payload-digest"] and not set(profiles["identical-payload-digest"]) & documents


def test_a_second_crawl_indexes_only_its_own_warc_and_the_index_is_a_full_sorted_pass(crawled, portal, tmp_path):
    """index.cdxj is what cdxj-indexer gives over every WARC in one sorted pass, though a crawl reads only the
    WARC it wrote: the first run's own index is not made again."""
    data = tmp_path / "twice"
    copy_archive(crawled["data"], data)
    first = data / "warcs" / "cdxj" / f"{warc_files(data)[0].name}.cdxj"
    made = first.stat().st_mtime_ns
    nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, *FAST)
    assert len(warc_files(data)) == 2 and first.stat().st_mtime_ns == made
    one_pass = subprocess.run([sys.executable, "-m", "cdxj_indexer.main", "--sort", *map(str, warc_files(data))],
                              capture_output=True, text=True, check=True, cwd=data / "warcs").stdout
    assert (data / "warcs" / "index.cdxj").read_text() == one_pass


def test_content_that_comes_back_is_the_latest_version_again(tmp_path):
    """A, then B, then A again at one URL: what the server serves now is A, so A's bytes and validators are
    what the next conditional request and a 304 build on."""
    archive = Archive(tmp_path)
    archive.open_warc(archive.start_run("test", []))
    report_id = archive.ensure_report("某市科学技术局", 2023, "t")
    first, second = b"%PDF-1.4 first", b"%PDF-1.4 second"
    for day, body, etag in (("2024-01-01", first, '"a1"'), ("2024-02-01", second, '"b"'), ("2024-03-01", first, '"a2"')):
        with freeze_time(day):
            archive.store_payload(report_id=report_id, url=URL, role="attachment", data=body, etag=etag)
    assert archive.latest_body(URL) == first
    assert archive.validators(URL) == {"etag": '"a2"', "last_modified": None}
    assert archive.db.execute("SELECT count(*) FROM versions").fetchone()[0] == 2  # each distinct content once


def test_content_that_comes_back_is_current_again_for_figures_search_and_source(tmp_path):
    """A, B, then A again: A's figures are the report's, A's text is its current search text and B's an earlier
    one, the site lists A first, and a 304 moves A's last_seen (not B's)."""
    from archive.search import build
    from archive.site import report_documents

    archive = Archive(tmp_path)
    a, b = report_pdf(), report_pdf(change_granted=7)
    first, _ = store(archive, a, "2024-01-01 03:00:00")
    extract_pending(archive)
    figures_a = dict(archive.db.execute("SELECT row_key || column_key, number FROM cells WHERE version_id = ?", [first]).fetchall())
    second, _ = store(archive, b, "2024-02-01 03:00:00")
    extract_pending(archive)
    assert archive.db["reports"].get(1)["source_version_id"] == second
    third, new = store(archive, a, "2024-03-01 03:00:00")
    assert (third, new) == (first, False)
    extract_pending(archive)
    report = archive.db["reports"].get(1)
    assert report["source_version_id"] == first
    assert "the pdf attachment" in report["source_reason"]
    figures = dict(archive.db.execute(
        "SELECT c.row_key || c.column_key, c.number FROM cells c JOIN reports r ON r.source_version_id = c.version_id")
        .fetchall())
    assert figures == figures_a and figures["grantednatural_person"] is not None
    assert archive.latest_body(URL) == a
    build(archive.db)
    rows = archive.db.execute("SELECT version_id, is_latest FROM search_reports ORDER BY version_id").fetchall()
    assert rows == [(first, 1), (second, 0)]
    versions = report_documents(archive.db.conn, 1)[0]["versions"]
    assert [v["id"] for v in versions] == [first, second]
    with freeze_time("2024-04-01 03:00:00"):
        assert archive.touch_unchanged(URL)
    assert archive.db["versions"].get(first)["last_seen"].startswith("2024-04-01")
    assert archive.db["versions"].get(second)["last_seen"].startswith("2024-02-01")


def test_identical_payload_at_a_new_url_is_a_revisit(tmp_path):
    archive = Archive(tmp_path)
    archive.open_warc(archive.start_run("test", []))
    data = report_pdf()
    report_id = archive.ensure_report("某市科学技术局", 2023, "t")
    for url in (URL, URL.replace(".pdf", "_copy.pdf")):
        archive.store_payload(report_id=report_id, url=url, role="attachment", data=data,
                              exchange=Exchange(url=url, status=200, response_headers=[("Content-Type", "application/pdf")]))
    rows = list(archive.db.query("SELECT record_type, profile, refers_to, url FROM warc_records WHERE record_type != 'request'"))
    assert [r["record_type"] for r in rows] == ["response", "revisit"] and rows[1]["profile"].endswith("identical-payload-digest")
    original = archive.db.execute("SELECT record_id FROM warc_records WHERE record_type = 'response'").fetchone()[0]
    assert rows[1]["refers_to"] == original and archive.db["blobs"].count == 1


def test_import_local_files_versions_them_like_any_other(tmp_path):
    pdf = tmp_path / "某市科学技术局2023年报.pdf"
    pdf.write_bytes(report_pdf())
    first = nianbao("import", "--data", tmp_path / "a", pdf)
    again = nianbao("import", "--data", tmp_path / "a", pdf)
    assert "new version" in first.stdout and "unchanged" in again.stdout
    (record,) = [json.loads(line) for line in nianbao("export", "--data", tmp_path / "a").stdout.splitlines()]
    assert record["agency"] == "某市科学技术局" and record["year"] == 2023 and record["versions"] == 1
    assert record["url"] == pdf.resolve().as_uri() and record["applications"]["granted"]["total"] >= 0


def test_readme_schema_is_generated_from_the_real_database():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.split(START, 1)[1].split(END, 1)[0].strip() == markdown().strip()
