"""A crawl killed with SIGKILL halfway leaves a consistent archive, and a rerun completes it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from .conftest import EXPECTED, ROOT, SAMPLE_SITES, nianbao


def consistent(db_path) -> None:
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    # every version points at a blob on disk; every WARC row inside its file
    data = db_path.parent
    for (sha256,) in db.execute("SELECT sha256 FROM versions"):
        assert (data / "blobs" / sha256[:2] / sha256[2:4] / sha256).exists()
    for name, end in db.execute("SELECT filename, max(offset + length) FROM warc_records GROUP BY filename"):
        assert (data / "warcs" / name).stat().st_size >= end


@pytest.mark.slow
def test_sigkill_mid_crawl_then_rerun(portal, tmp_path):
    data = tmp_path / "archive"
    slow = ["-s", "DOWNLOAD_DELAY=0.08", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY_JITTER=0",
            "-s", "LOG_LEVEL=ERROR"]
    command = [sys.executable, "-m", "nianbao.cli", "crawl", "--sites", str(SAMPLE_SITES), "--portal-url", portal.url,
               "--data", str(data), *slow]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    fetched = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        try:
            fetched = sqlite3.connect(data / "nianbao.db", timeout=5).execute("SELECT count(*) FROM versions").fetchone()[0]
        except sqlite3.Error:
            continue
        if fetched >= 25:
            break
    assert process.poll() is None, "the crawl finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 25 <= fetched < len(EXPECTED) + 21
    consistent(data / "nianbao.db")

    nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "-s", "DOWNLOAD_DELAY=0",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR")
    consistent(data / "nianbao.db")
    runs = sqlite3.connect(data / "nianbao.db").execute("SELECT status FROM runs ORDER BY id").fetchall()
    assert runs == [("interrupted",), ("finished",)]
    records = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    assert sorted((r["agency"], r["year"]) for r in records) == sorted((e["agency"], e["year"]) for e in EXPECTED)
    assert nianbao("verify", "--data", data).returncode == 0
    for warc in (data / "warcs").glob("*.warc.gz"):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(warc)], capture_output=True, text=True)
        assert check.returncode == 0, (warc.name, check.stdout[-500:])
