"""Faults while writing: the disk fills up, a reader locks the database. A clear error, then a
consistent archive that the next run completes."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from archive.store import Archive, ArchiveWriteError

from .conftest import ROOT

PAYLOAD = os.urandom(300_000)
URL = "http://www.example.gov.cn/ndbg/2023.pdf"

DISK_FULL = """
import resource, signal, sys
from archive.store import Archive, ArchiveWriteError
archive = Archive(sys.argv[1])
report = archive.ensure_report("某市某某局", 2023, "t")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death: a full disk, as the writer sees it
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
try:
    archive.store_payload(report_id=report, url=sys.argv[2], role="attachment", data=bytes(300_000))
except ArchiveWriteError as exc:
    print(exc)
    sys.exit(7)
"""


def consistent(data) -> None:
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_disk_full_while_writing_a_blob(tmp_path):
    data = tmp_path / "archive"
    result = subprocess.run([sys.executable, "-c", DISK_FULL, str(data), URL], capture_output=True, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 7
    assert f"could not archive {URL}: OSError" in result.stdout and "File too large" in result.stdout
    consistent(data)
    archive = Archive(data)
    assert archive.db["versions"].count == 0 and archive.db["blobs"].count == 0
    assert [p for p in (data / "blobs").rglob("*") if p.is_file()] == []  # no partial blob left behind
    report = archive.ensure_report("某市某某局", 2023, "t")
    _, new = archive.store_payload(report_id=report, url=URL, role="attachment", data=bytes(300_000))
    assert new and archive.db["versions"].count == 1  # the next run completes it
    consistent(data)


def test_database_locked_by_a_reader_past_the_timeout(tmp_path):
    archive = Archive(tmp_path, busy_timeout_ms=300)
    report = archive.ensure_report("某市某某局", 2023, "t")
    reader = sqlite3.connect(tmp_path / "nianbao.db")
    reader.execute("BEGIN EXCLUSIVE")
    with pytest.raises(ArchiveWriteError, match="database is locked"):
        archive.store_payload(report_id=report, url=URL, role="attachment", data=PAYLOAD)
    reader.rollback()
    reader.close()
    assert archive.db["versions"].count == 0
    _, new = archive.store_payload(report_id=report, url=URL, role="attachment", data=PAYLOAD)
    assert new and archive.db["versions"].count == 1 and archive.db["blobs"].count == 1
    consistent(tmp_path)


def test_a_short_lock_is_waited_out(tmp_path):
    archive = Archive(tmp_path)
    report = archive.ensure_report("某市某某局", 2023, "t")
    reader = sqlite3.connect(tmp_path / "nianbao.db", check_same_thread=False)
    reader.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.0, reader.rollback)
    release.start()
    started = time.monotonic()
    _, new = archive.store_payload(report_id=report, url=URL, role="attachment", data=PAYLOAD)
    assert new and time.monotonic() - started >= 0.9
    consistent(tmp_path)


def test_file_names_from_the_server_never_reach_the_disk(crawled, tmp_path):
    archive = Archive(tmp_path)
    report = archive.ensure_report("某市某某局", 2023, "t")
    archive.store_payload(report_id=report, url="http://x.gov.cn/download.jsp?filename=../../etc/passwd",
                          role="attachment", data=b"root:x:0:0", metadata={"filename": "../../etc/passwd"})
    for data in (tmp_path, crawled["data"]):
        for path in data.rglob("*"):
            if path.is_file():
                relative = path.relative_to(data).as_posix()
                assert relative.startswith(("blobs/", "warcs/", "nianbao.db", "inspect-data", "writer.lock", "logs/")), relative
                if relative.startswith("logs/"):  # named by the command and the time, never by a server
                    assert re.fullmatch(r"logs/crawl-\d{8}T\d{6}Z-\d+\.log", relative), relative
                if relative.startswith("blobs/"):
                    assert len(path.name) == 64 and all(c in "0123456789abcdef" for c in path.name)
    assert not (tmp_path.parent / "etc").exists()
