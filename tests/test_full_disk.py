"""A full disk ends the run cleanly, and the archive recovers once space is freed.

The archive lives on a real tmpfs of a few MiB, mounted in a private mount namespace (``unshare -m``, as root),
so nothing of the host's mounts changes. A driver runs inside that namespace: the crawl until the disk is full,
the archive's state as SQLite, warcio and the blob store see it, then the same crawl after the file system grew.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import EXPECTED, FAST, ROOT, SAMPLE_SITES

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                reason="needs root and unshare(1) for a private tmpfs")

DRIVER = r"""
import json, sqlite3, subprocess, sys
from pathlib import Path

mount, size, bigger, *command = sys.argv[1:]
subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mount], check=True)
data = Path(mount) / "archive"


def nianbao(*args):
    done = subprocess.run([sys.executable, "-m", "nianbao.cli", *args], capture_output=True, text=True)
    return {"rc": done.returncode, "stderr": done.stderr, "stdout": done.stdout}


def state():
    db = sqlite3.connect(data / "nianbao.db")
    blobs = [row[0] for row in db.execute("SELECT sha256 FROM blobs")]
    referenced = {row[0] for row in db.execute("SELECT DISTINCT filename FROM warc_records")}
    warcs = {}
    for path in sorted((data / "warcs").glob("*.warc.gz")):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True, text=True)
        ends = db.execute("SELECT max(offset + length) FROM warc_records WHERE filename = ?", [path.name]).fetchone()[0]
        warcs[path.name] = {"check": check.returncode, "size": path.stat().st_size, "committed_end": ends or 0}
    return {
        "runs": db.execute("SELECT id, status, json_extract(stats, '$.\"nianbao/storage_failed\"') FROM runs").fetchall(),
        "integrity": db.execute("PRAGMA integrity_check").fetchone()[0],
        "missing_blobs": [s for s in blobs if not (data / "blobs" / s[:2] / s[2:4] / s).is_file()],
        "versions": db.execute("SELECT count(*) FROM versions").fetchone()[0],
        "warcs": warcs, "unreferenced_warcs": sorted(set(warcs) - referenced),
    }


out = {"full": nianbao(*command, "--data", str(data))}
out["after_full"] = state()
subprocess.run(["mount", "-o", f"remount,size={bigger}", mount], check=True)
out["again"] = nianbao(*command, "--data", str(data))
out["after_again"] = state()
out["verify"] = nianbao("verify", "--data", str(data))
out["export"] = nianbao("export", "--data", str(data))
print(json.dumps(out))
"""


def full_disk_run(tmp_path, command: list, size: str = "3m", bigger: str = "256m") -> dict:
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", DRIVER, str(mount), size,
                           bigger, *map(str, command)], capture_output=True, text=True, cwd=ROOT, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _assert_clean_end_and_recovery(out: dict) -> None:
    full, after = out["full"], out["after_full"]
    # one message, the documented exit code, no traceback and no flood of logging errors
    assert full["rc"] == 7, full["stderr"][-3000:]
    said = [line for line in full["stderr"].splitlines() if not line.startswith("crawling ")]  # --processes' note
    assert len(said) == 1, full["stderr"][-3000:]
    assert said[0].startswith("error: the archive's storage failed")
    assert "disk is full" in said[0] or "No space left" in said[0]
    # the run is marked failed, with the reason
    (run_id, status, reason), = after["runs"]
    assert status == "failed" and reason
    # nothing half-written is referenced: the database is whole, every blob it names is on disk, every WARC
    # ends at its last committed record and reads to the end
    assert after["integrity"] == "ok"
    assert after["missing_blobs"] == []
    assert all(w["check"] == 0 and w["size"] == w["committed_end"] for w in after["warcs"].values()), after["warcs"]
    # once the file system has room, the same command completes the archive
    again = out["again"]
    assert again["rc"] == 0, again["stderr"][-3000:]
    assert [r[1] for r in out["after_again"]["runs"]] == ["failed", "finished"]
    assert out["verify"]["rc"] == 0, out["verify"]["stdout"][-2000:]
    records = [json.loads(line) for line in out["export"]["stdout"].splitlines()]
    assert len(records) == len(EXPECTED)


def test_a_crawl_into_a_full_disk_ends_in_one_line_and_recovers(portal, tmp_path):
    out = full_disk_run(tmp_path, ["crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, *FAST])
    _assert_clean_end_and_recovery(out)


def test_a_two_process_crawl_into_a_full_disk_ends_in_one_line_and_recovers(portal, tmp_path):
    out = full_disk_run(tmp_path, ["crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--processes", "2",
                                   *FAST])
    _assert_clean_end_and_recovery(out)
