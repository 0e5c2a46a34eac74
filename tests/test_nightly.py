"""The nightly run against the sample portal: flaky servers, overlapping runs, a kill, a quiet night."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest

from nianbao.nightly import JOBDIR_NAME, exclusive
from sampleportal.server import Portal

from .conftest import EXPECTED, ROOT, SAMPLE_SITES, nianbao

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "LOG_LEVEL=ERROR", "-s", "DOWNLOAD_TIMEOUT=2"]


def run_nightly(portal, data, *extra, check=True):
    result = nianbao("nightly", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, *FAST, *extra,
                     check=check, timeout=600)
    return result, (json.loads(result.stdout) if result.stdout.strip().startswith("{") else None)


def archived(data) -> Counter:
    db = sqlite3.connect(data / "published" / "nianbao.db")
    return Counter(db.execute("SELECT a.name, r.year FROM reports r JOIN agencies a ON a.id = r.agency_id "
                              "WHERE r.source_version_id IS NOT NULL").fetchall())


@pytest.mark.slow
def test_two_nights_on_a_flaky_portal_archive_every_report_once(tmp_path):
    data = tmp_path / "archive"
    with Portal(flaky=0.2, seed=7, stall=2.5) as portal:
        _, first = run_nightly(portal, data, "--max-failure-rate", "0.5")
        # the second night asks for list pages, new items and what failed the first (the known reports wait for their
        # turn), so its requests meet other weather: a list page that fails every retry is a site unreachable
        # tonight, exit 4 naming it, as it would be on any night
        night, second = run_nightly(portal, data, "--max-failure-rate", "0.5", check=False)
        errors = [line for line in night.stderr.splitlines() if line.startswith("error:")]
        assert night.returncode == 0 or (night.returncode == 4 and errors == [
            f"error: every column failed on: {', '.join(second['unreachable_sites'])}"]), night.stderr[-2000:]
        assert second["known"] > 0
        faults = Counter(h.fault for h in portal.state.log if h.fault)
    assert set(faults) == {"500", "timeout", "reset", "truncated"}
    assert archived(data) == Counter((e["agency"], e["year"]) for e in EXPECTED)
    db = sqlite3.connect(data / "nianbao.db")
    documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == documents  # no truncated body kept
    assert first["failed"] > 0 and second["failed"] > 0  # the failures are counted
    runs = db.execute("SELECT summary FROM runs WHERE summary IS NOT NULL").fetchall()
    assert len(runs) == 2 and json.loads(runs[0][0])["total"]["reports_found"] == first["reports_found"]
    assert db.execute("SELECT count(DISTINCT site_id) FROM run_sites").fetchone()[0] == len({e["column"] for e in EXPECTED})
    assert db.execute("SELECT DISTINCT command FROM runs").fetchall() == [("nightly",)]  # not recorded as crawl


def test_second_overlapping_run_refuses_at_once(portal, tmp_path):
    data = tmp_path / "archive"
    with exclusive(data):
        started = time.monotonic()
        result, _ = run_nightly(portal, data, check=False)
    assert result.returncode == 75 and time.monotonic() - started < 30
    assert "another writer holds the archive" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert not (data / "nianbao.db").exists()


@pytest.mark.slow
def test_killed_run_resumes_and_a_quiet_night_costs_little(portal, tmp_path):
    fresh = tmp_path / "fresh"
    start = len(portal.state.log)
    _, full = run_nightly(portal, fresh)
    fresh_requests = len(portal.state.log) - start

    data = tmp_path / "killed"
    slow = ["-s", "DOWNLOAD_DELAY=0.1", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR"]
    command = [sys.executable, "-m", "nianbao.cli", "nightly", "--sites", str(SAMPLE_SITES), "--portal-url",
               portal.url, "--data", str(data), *slow]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            if sqlite3.connect(data / "nianbao.db", timeout=5).execute("SELECT count(*) FROM versions").fetchone()[0] >= 25:
                break
        except sqlite3.Error:
            continue
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert (data / JOBDIR_NAME).exists()
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok" and db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()

    start = len(portal.state.log)
    _, resumed = run_nightly(portal, data)
    resumed_requests = len(portal.state.log) - start
    assert resumed["resumed"] is True and not (data / JOBDIR_NAME).exists()
    assert resumed_requests < fresh_requests
    assert archived(data) == Counter((e["agency"], e["year"]) for e in EXPECTED)
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok" and db.execute("PRAGMA foreign_key_check").fetchall() == []

    _, quiet = run_nightly(portal, fresh)  # nothing changed since the fresh run
    assert quiet["new_versions"] == 0 and quiet["new_reports"] == 0
    assert quiet["bytes"] < 0.05 * full["bytes"]
