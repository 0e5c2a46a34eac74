"""Throughput without changed figures: the worker pool, the listening LibreOffice, payloads read once, and a
Scrapyd shard run's own extraction. Speed itself is measured in bench/, not here."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from archive.extraction import WorkerPool, extract_pending, extract_versions
from archive.store import Archive
from pipelines.extract import extract
from pipelines.readers import doc as doc_reader
from pipelines.readers.docx import read_docx

from .conftest import FAST, ROOT, SAMPLE_SITES, copy_archive, nianbao, seed_path

SAMPLE_DOC = ROOT / "sampleportal/site/zwgk/zfxxgkzl/bmzfxxgk/jyj/zfxxgkndbg/202003/P020200313737818291240.doc"


def dump(data: Path) -> dict:
    db = sqlite3.connect(data / "nianbao.db")
    try:
        return {
            "versions": db.execute("SELECT id, extract_status, extract_error, record, text FROM versions ORDER BY id").fetchall(),
            "cells": db.execute("SELECT * FROM cells ORDER BY version_id, report_table, row_key, column_key").fetchall(),
            "checks": db.execute("SELECT version_id, check_id, scope, status, expected, actual, detail FROM checks "
                                 "ORDER BY version_id, check_id, scope").fetchall(),
        }
    finally:
        db.close()


def test_the_pool_writes_what_one_fork_per_document_wrote(crawled, tmp_path):
    """Every format of the sample portal (the .doc through the listening LibreOffice): the same rows, byte for byte."""
    dumps = []
    for name, fork in (("fork", True), ("pool", False)):
        data = tmp_path / name
        copy_archive(crawled["data"], data)
        archive = Archive(data)
        jobs = archive.pending_versions(all_versions=True)
        assert {"doc", "pdf", "docx", "html"} <= {job["format"] for job in jobs}
        archive.db.execute("UPDATE versions SET record = NULL, text = NULL, extract_status = 'pending'")
        archive.db.execute("DELETE FROM cells")
        archive.db.conn.commit()
        stats = extract_versions(archive, jobs, workers=2, fork_per_document=fork)
        assert stats.ok == len(jobs) and stats.failed == 0
        dumps.append(dump(data))
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["cells"]) > 1000


def test_a_worker_lives_across_documents_and_is_replaced_after_a_failure_or_n_documents():
    text = seed_path("001").read_bytes()
    pool = WorkerPool(1, time_limit=60, memory_limit=3 * 2**30, recycle_after=2)
    pids = []

    def read(name: str, data: bytes) -> str:
        pool.submit({"name": name, "url": f"http://x/{name}"}, data)
        results = []
        while not results:
            results = pool.collect()
        [(_, status, _, _)] = results
        pids.append(pool.idle[0].process.pid if pool.idle else None)
        return status

    try:
        assert read("a.txt", text) == "ok"
        first = pids[-1]
        assert first is not None
        assert read("b.txt", text) == "ok" and pids[-1] is None  # its second document: replaced
        assert read("c.txt", text) == "ok" and pids[-1] not in (None, first)
        assert read("d.pdf", b"%PDF-1.7 broken" + bytes(range(256))) == "failed" and pids[-1] is None
    finally:
        pool.close()


def test_the_same_payload_on_another_site_is_copied_not_read_again(tmp_path):
    archive = Archive(tmp_path / "a")
    data = seed_path("001").read_bytes()
    title = "某市某局2023年政府信息公开工作年度报告"
    report_id = archive.ensure_report("某市某局", 2023, title)
    archive.store_payload(report_id=report_id, url="http://city.example/a.txt", role="report", data=data, title=title)
    first = extract_pending(archive)
    assert first.ok == 1 and first.copied == 0
    # the county's portal republishes the same file: same report, same bytes, another URL
    archive.store_payload(report_id=report_id, url="http://county.example/b.txt", role="report", data=data, title=title)
    second = extract_pending(archive)
    assert second.ok == 1 and second.copied == 1
    rows = archive.db.execute("SELECT d.url, v.record FROM versions v JOIN documents d ON d.id = v.document_id "
                              "ORDER BY v.id").fetchall()
    copied = json.loads(rows[1][1])
    assert copied["source"]["url"] == "http://county.example/b.txt"
    direct = extract(data, name="b.txt", url="http://county.example/b.txt",
                     hints={"title": title, "agency": "某市某局", "published": None})
    assert copied == direct
    assert extract_pending(archive).ok == 0  # nothing left unread at this parser version


def test_a_process_that_meets_few_doc_files_starts_no_listening_libreoffice():
    converter = doc_reader.PersistentConverter(start_after=2)
    try:
        for _ in range(2):  # each of the first two is left to a LibreOffice of its own, and nothing is started
            assert converter.convert(b"not converted", "docx", 120) is None
            assert converter.process is None and converter.tmp is None
        assert converter.convert(b"not converted", "docx", 120) is None  # the third starts one, in the background
        assert converter.process is not None or converter.broken
    finally:
        converter.stop()


def test_doc_through_the_listening_libreoffice_reads_as_a_fresh_one():
    data = SAMPLE_DOC.read_bytes()
    converter = doc_reader.PersistentConverter(start_after=0)
    try:
        assert converter.convert(data, "docx", 120) is None  # starting: this one gets a LibreOffice of its own
        if converter.broken:
            pytest.skip("no python3-uno/unoserver here: per-document LibreOffice is used")
        first = converter.convert(data, "docx", 120)
        assert not converter.broken, converter.broken_reason
        process = converter.process.pid
        second = converter.convert(data, "docx", 120)
        assert converter.process.pid == process  # the same LibreOffice, still listening
        fresh = doc_reader.libreoffice_convert(data, "doc", "docx")
        assert read_docx(first).full_text() == read_docx(second).full_text() == read_docx(fresh).full_text()
        with pytest.raises(doc_reader.UnreadableDocument, match="longer than"):
            converter.convert(data, "docx", 0.001)
        assert converter.process is None  # the stuck one is gone; the next document starts afresh
        assert converter.convert(data, "docx", 120) is None and converter.process is not None
        assert read_docx(converter.convert(data, "docx", 120)).full_text() == read_docx(fresh).full_text()
    finally:
        profile = converter.tmp
        converter.stop()
    # none of unoserver, oosplash or soffice.bin outlives the converter
    left = subprocess.run(["pgrep", "-f", profile], capture_output=True, text=True).stdout.split()
    assert left == []


def test_a_shard_run_extracts_what_it_fetched_when_asked(portal, tmp_path):
    data = tmp_path / "shard"
    nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "--no-extract", *FAST,
            "-s", "NIANBAO_EXTRACT_IN_CRAWL=True", "-s", "NIANBAO_EXTRACT_WORKERS=2")
    db = sqlite3.connect(data / "nianbao.db")
    statuses = dict(db.execute("SELECT extract_status, count(*) FROM versions GROUP BY 1").fetchall())
    stats = json.loads(db.execute("SELECT stats FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert "pending" not in statuses and statuses.get("ok", 0) > 50
    assert stats["nianbao/extracted"] == statuses["ok"] + statuses.get("partial", 0)


def test_grouped_writes_are_committed_once_their_files_are_synced(tmp_path, monkeypatch):
    from archive import store
    from archive.warc import Exchange

    archive = Archive(tmp_path)
    run = archive.start_run("crawl", [])
    archive.group_writes(documents=3, seconds=3600)
    archive.open_warc(run)
    report = archive.ensure_report("某市某局", 2023, "t")
    reader = sqlite3.connect(tmp_path / "nianbao.db", check_same_thread=False)  # fsyncs run in threads
    synced, committed_when_synced = [], []
    watching = threading.Lock()
    real_fsync = store._fsync_path

    def watched(path):
        with watching:
            committed_when_synced.append(reader.execute("SELECT count(*) FROM versions").fetchone()[0])
            synced.append(Path(path))
        real_fsync(path)

    monkeypatch.setattr(store, "_fsync_path", watched)
    exchange = {"url": "http://x/a.pdf", "status": 200, "response_headers": [("Content-Type", "application/pdf")]}
    for n in range(2):
        archive.store_payload(report_id=report, url=f"http://x/{n}.pdf", role="attachment", data=b"%%PDF-%d" % n,
                              exchange=Exchange(**{**exchange, "url": f"http://x/{n}.pdf"}))
    # ensure_report and the two payloads: three writes, the group was due and is committed
    assert reader.execute("SELECT count(*) FROM versions").fetchone()[0] == 2
    archive.log_fetch(run_id=run, url="http://x/0.pdf", outcome="fetched")
    assert reader.execute("SELECT count(*) FROM fetches").fetchone()[0] == 0  # waiting for its group
    blobs = {archive.blobs.path(v["sha256"]) for v in archive.db["versions"].rows}
    assert blobs <= set(synced) and {p.parent for p in blobs} <= set(synced)
    assert set(committed_when_synced) == {0}  # nothing was visible before every file was synced
    archive.store_payload(report_id=report, url="http://x/9.pdf", role="attachment", data=b"%PDF-9")
    assert reader.execute("SELECT count(*) FROM versions").fetchone()[0] == 2  # waiting for its group
    archive.finish_run(run, "finished", {})
    assert reader.execute("SELECT count(*) FROM versions").fetchone()[0] == 3
    assert reader.execute("SELECT count(*) FROM fetches").fetchone()[0] == 1
