"""One writer per archive: while one process writes, every other writer is refused at once (exit 75) and
touches nothing, least of all the WARC file the live run is still appending to."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from archive.store import Archive

from .conftest import ROOT, SAMPLE_SITES, nianbao, seed_path

# A live crawl, as far as the archive can tell: its run row says running, its WARC has a record the
# database does not know about yet (it is being written), and the process holds the writer lock.
LIVE_WRITER = """
import sys, time
from archive.store import Archive
archive = Archive(sys.argv[1])
run_id = archive.start_run("crawl", ["x"])
archive.open_warc(run_id)
archive.warc.handle.write(b"half of a record still being written")
archive.warc.handle.flush()
print(archive.warc.path, flush=True)
time.sleep(120)
"""


@pytest.fixture
def live_writer(tmp_path):
    data = tmp_path / "archive"
    process = subprocess.Popen([sys.executable, "-c", LIVE_WRITER, str(data)], cwd=ROOT, stdout=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    warc = process.stdout.readline().strip()
    assert warc, "the live writer did not start"
    yield data, process, warc
    process.kill()
    process.wait()
    assert process.returncode is not None


def test_every_writer_is_refused_while_another_writes(live_writer, portal, tmp_path):
    data, process, warc = live_writer
    size = os.path.getsize(warc)
    shard = tmp_path / "shard"
    Archive(shard)
    commands = {
        "crawl": ["crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "-s", "LOG_LEVEL=ERROR"],
        "nightly": ["nightly", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data],
        "reextract": ["reextract", "--data", data],
        "import": ["import", "--data", data, seed_path("001")],
        "merge": ["merge", "--data", data, shard],
    }
    hits = len(portal.state.log)
    for name, args in commands.items():
        result = nianbao(*args, check=False, timeout=60)
        assert result.returncode == 75, (name, result.returncode, result.stderr[-1500:])
        assert "another writer holds the archive" in result.stderr and f"pid {process.pid}" in result.stderr, name
    assert len(portal.state.log) == hits  # refused before a single request
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT status FROM runs").fetchall() == [("running",)]  # the live run was not declared dead
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
    assert os.path.getsize(warc) == size  # its WARC was not cut back under it
    assert process.poll() is None


def test_a_killed_writer_frees_the_archive_and_its_warc_is_repaired(live_writer, portal):
    data, process, warc = live_writer
    process.kill()
    process.wait()
    result = nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "--no-extract",
                     "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR")
    assert result.returncode == 0
    assert os.path.getsize(warc) == 0  # the dead run's half record is gone: it had no committed record
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT status FROM runs ORDER BY id").fetchall() == [("interrupted",), ("finished",)]
    assert nianbao("verify", "--data", data, check=False).returncode == 0
