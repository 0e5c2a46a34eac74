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

from archive.fixity import verify
from archive.store import Archive

from .conftest import EXPECTED, FAST, ROOT, SAMPLE_SITES, copy_archive, nianbao


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


KILL_POINTS = 10
# writes still grouped, in groups short enough that the fetch log (the kill points' clock) keeps up with the crawl
PACED = ["-s", "DOWNLOAD_DELAY=0.01", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY_JITTER=0",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "LOG_LEVEL=ERROR", "-s", "NIANBAO_WRITE_GROUP_SECONDS=0.05"]


def archive_state(data) -> dict:
    """What a crawl leaves: reports, documents, versions and blobs, by their natural keys (ids and times aside)."""
    db = sqlite3.connect(data / "nianbao.db")
    on_disk = sorted(p.name for p in (data / "blobs").rglob("*") if p.is_file() and not p.name.startswith("."))
    return {
        "reports": sorted(db.execute("SELECT a.name, r.year, r.title FROM reports r JOIN agencies a ON a.id = r.agency_id")),
        "documents": sorted(db.execute("SELECT d.url, d.role, d.format, d.title, d.referer, a.name, r.year FROM documents d "
                                       "JOIN reports r ON r.id = d.report_id JOIN agencies a ON a.id = r.agency_id")),
        "versions": sorted(db.execute("SELECT d.url, v.sha256 FROM versions v JOIN documents d ON d.id = v.document_id")),
        "blobs": sorted(db.execute("SELECT sha256, size, media_type FROM blobs")),
        "blob_files": on_disk,
    }


def progress(data) -> int:
    """Fetches logged so far by the running crawl (0 while its database does not exist yet)."""
    try:
        return sqlite3.connect(data / "nianbao.db", timeout=5).execute("SELECT count(*) FROM fetches").fetchone()[0]
    except sqlite3.Error:
        return 0


def crawl_command(portal, data, pace=PACED):
    return [sys.executable, "-m", "nianbao.cli", "crawl", "--no-extract", "--sites", str(SAMPLE_SITES),
            "--portal-url", portal.url, "--data", str(data), *pace]


@pytest.mark.slow
def test_ten_sigkills_spread_over_the_crawl_each_resume_to_the_clean_archive(portal, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    clean = tmp_path / "clean"
    subprocess.run(crawl_command(portal, clean), cwd=ROOT, env=env, check=True, capture_output=True)
    expected, total = archive_state(clean), progress(clean)
    assert len(expected["reports"]) == len(EXPECTED) and len(expected["versions"]) > len(EXPECTED)
    killed_at, targets = [], []
    for point in range(1, KILL_POINTS + 1):
        data = tmp_path / f"kill-{point:02d}"
        target = total * point // (KILL_POINTS + 1)  # 1/11 … 10/11 of the way through
        targets.append(target)
        process = subprocess.Popen(crawl_command(portal, data), cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while process.poll() is None and progress(data) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, f"kill point {point}: the crawl ended before {target} fetches"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed_at.append(progress(data))
        consistent(data / "nianbao.db")
        rerun = subprocess.run(crawl_command(portal, data, FAST), cwd=ROOT, env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, (point, rerun.stderr[-2000:])
        statuses = [s for (s,) in sqlite3.connect(data / "nianbao.db").execute("SELECT status FROM runs ORDER BY id")]
        assert statuses[-1] == "finished" and set(statuses[:-1]) <= {"interrupted"}
        state = archive_state(data)
        for key in expected:
            assert state[key] == expected[key], (point, key, set(state[key]) ^ set(expected[key]))
        fixity = verify(Archive(data))  # what `nianbao verify` runs, without another interpreter
        assert fixity["problems"] == [] and fixity["blobs"] == len(expected["blobs"]), (point, fixity["problems"])
    # the kills really were spread over the crawl, not bunched at one end
    # (writes are committed in groups, so a kill lands at or a group past its point: each at or after its own)
    assert all(at >= target for at, target in zip(killed_at, targets))
    assert killed_at[0] < total // 5 and killed_at[-1] > total * 4 // 5


def test_resuming_a_run_left_marked_running_follows_every_archived_page(crawled, portal, tmp_path):
    """The issue's reproduction: the last run still says running (as after kill -9), the portal is crawled again.
    Pages answered from the archive must reach the spider: every report found, every attachment checked."""
    data = tmp_path / "archive"
    copy_archive(crawled["data"], data)
    db = sqlite3.connect(data / "nianbao.db")
    with db:
        db.execute("UPDATE runs SET status = 'running'")
    before = archive_state(data)
    result = nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "--no-extract",
                     *FAST, check=False)
    assert result.returncode == 0, result.stderr[-1500:]
    summary = json.loads(result.stdout)
    assert summary["reports_found"] == len(EXPECTED) and summary["new_versions"] == 0
    stats = json.loads(db.execute("SELECT stats FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    documents = len(before["documents"])
    assert stats["nianbao/resumed"] == documents  # pages and attachments alike answered from the archive
    assert summary["unchanged"] == documents
    assert archive_state(data) == before
