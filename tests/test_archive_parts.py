"""The archive split by what it stores: each part's queries, and the write path's plain statements."""

from __future__ import annotations

import sqlite3

from archive.columns import record_found
from archive.documents import verified_sites
from archive.store import Archive
from archive.warc import Exchange


def _sqlite(path):
    return sqlite3.connect(path / "nianbao.db")


def test_verified_sites_are_those_with_a_report_or_a_column_that_listed_one(tmp_path):
    archive = Archive(tmp_path)
    for site_id in ("reported", "listed", "found_nothing"):
        archive.ensure_site({"id": site_id, "name": f"{site_id}人民政府"})
    archive.ensure_report("某区人民政府", 2023, "年报", {"id": "reported", "name": "某区人民政府"})
    record_found(archive, "listed", {"url": "http://listed.gov.cn/ndbg/"}, None)
    record_found(archive, "found_nothing", {"url": "http://nothing.gov.cn/ndbg/"}, None)
    with archive.db.conn:
        archive.db.execute("UPDATE columns SET reports_found = 3 WHERE site_id = 'listed'")
    archive.db.conn.close()
    before = (tmp_path / "nianbao.db").stat().st_mtime_ns
    assert verified_sites(tmp_path) == {"reported", "listed"}
    assert (tmp_path / "nianbao.db").stat().st_mtime_ns == before  # read-only: nothing written


def test_verified_sites_of_no_archive_or_one_older_than_discovery(tmp_path):
    assert verified_sites(tmp_path / "none") == set()
    assert not (tmp_path / "none").exists()  # a read creates nothing
    archive = Archive(tmp_path)
    archive.ensure_site({"id": "county", "name": "某县人民政府"})
    archive.ensure_report("某县人民政府", 2022, "年报", {"id": "county", "name": "某县人民政府"})
    archive.db.execute("DROP TABLE columns")
    archive.db.conn.close()
    assert verified_sites(tmp_path) == {"county"}


def test_grouped_fetch_log_rows_naming_different_columns_keep_each_value(tmp_path):
    archive = Archive(tmp_path)
    run = archive.start_run("crawl", [])
    archive.group_writes(documents=100, seconds=3600)
    archive.log_fetch(run_id=run, url="http://x/a.pdf", status=200, bytes=12, outcome="fetched")
    archive.log_fetch(run_id=run, url="http://x/b.pdf", outcome="error", reason="timeout",
                      fetched_at="2024-01-01T00:00:00+00:00")
    archive.finish_run(run, "finished", {})
    rows = _sqlite(tmp_path).execute(
        "SELECT url, status, bytes, outcome, reason, fetched_at FROM fetches ORDER BY id").fetchall()
    assert rows[0][:5] == ("http://x/a.pdf", 200, 12, "fetched", None) and rows[0][5]
    assert rows[1] == ("http://x/b.pdf", None, None, "error", "timeout", "2024-01-01T00:00:00+00:00")


def test_a_payload_seen_again_on_another_url_is_one_blob_and_a_revisit_record(tmp_path):
    archive = Archive(tmp_path)
    run = archive.start_run("crawl", [])
    archive.group_writes()
    archive.open_warc(run)
    report = archive.ensure_report("某市某局", 2023, "年报")
    for url in ("http://x/a.pdf", "http://y/a.pdf"):
        archive.store_payload(report_id=report, url=url, role="attachment", data=b"%PDF-1.7 same", media_type="x",
                              exchange=Exchange(url=url, status=200))
    archive.touch_unchanged("http://y/a.pdf", Exchange(url="http://y/a.pdf", status=304))
    archive.finish_run(run, "finished", {})
    db = _sqlite(tmp_path)
    assert db.execute("SELECT count(*), min(first_url) FROM blobs").fetchone() == (1, "http://x/a.pdf")
    records = db.execute("SELECT url, record_type, profile FROM warc_records WHERE record_type != 'request' "
                         "ORDER BY id").fetchall()
    assert [(url, kind, (profile or "").rsplit("/", 1)[-1]) for url, kind, profile in records] == [
        ("http://x/a.pdf", "response", ""),
        ("http://y/a.pdf", "revisit", "identical-payload-digest"),
        # a 304 for y refers to the first response of y: there is none, so no record (as before the split)
    ]
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 2


def test_the_write_path_sends_few_statements(tmp_path):
    """sqlite-utils' table helpers read the schema on every call (about 58 statements per fetched item);
    the write path's plain statements need under 20."""
    archive = Archive(tmp_path)
    run = archive.start_run("crawl", [])
    archive.group_writes()
    archive.open_warc(run)
    report = archive.ensure_report("某市某局", 2023, "年报")
    statements = []
    archive.db.conn.set_trace_callback(statements.append)
    url = "http://x/n.pdf"
    archive.store_payload(report_id=report, url=url, role="attachment", data=b"%PDF-1.7 n",
                          exchange=Exchange(url=url, status=200))
    archive.log_fetch(run_id=run, url=url, outcome="fetched")
    archive.db.conn.set_trace_callback(None)
    assert len(statements) < 20, statements
    assert not any("sqlite_master" in s or "table_info" in s for s in statements)
    archive.finish_run(run, "finished", {})


def test_the_agency_of_an_index_number_owner_is_found_through_the_index(tmp_path):
    archive = Archive(tmp_path)
    first = archive.ensure_report("某市财政局", 2023, "年报")
    second = archive.ensure_report("某市财政局城区分局", 2023, "年报")
    for n, (report, number) in enumerate([(first, "11350503003534456T/2023-00012"),
                                          (second, "11350503003534456TX/2023-00001"), (second, None)]):
        archive.store_payload(report_id=report, url=f"http://x/{n}.html", role="page", data=b"%d" % n,
                              metadata={"索引号": number} if number else {})
    with archive.db.conn:  # a metadata value that is not JSON neither breaks a write nor the query
        archive.db.execute("INSERT INTO documents (report_id, url, metadata) VALUES (?, 'http://x/bad', '{no')", [second])
    assert archive.agency_of_index_owner("11350503003534456T") == "某市财政局"
    assert archive.agency_of_index_owner("11350503003534456t") == "某市财政局"  # LIKE folds ASCII case
    assert archive.agency_of_index_owner("11350503003534456TX") == "某市财政局城区分局"
    assert archive.agency_of_index_owner("1135050300353445") is None  # a prefix of the owner is not the owner
    statements = []
    archive.db.conn.set_trace_callback(statements.append)
    archive.agency_of_index_owner("11350503003534456T")
    archive.db.conn.set_trace_callback(None)
    plan = " ".join(row[-1] for row in archive.db.execute("EXPLAIN QUERY PLAN " + statements[-1]))
    assert "USING INDEX idx_documents_index_number" in plan and "SCAN d" not in plan
