"""Every bad input: no crash, no hang, a recorded failure or warning with a reason, no invented figure."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from archive.extraction import extract_versions
from archive.store import Archive

from .conftest import ROOT
from .hostile_corpus import corpus, hostile_files

TABLES = ("active_disclosure", "applications", "review_litigation")


def figures(record: dict):
    for table in TABLES:
        for row, cells in record.get(table, {}).items():
            if row != "extra":
                for column, value in cells.items():
                    yield (table, row, column), value


@pytest.mark.slow
def test_hostile_corpus(tmp_path):
    files = corpus()
    assert len(files) >= 300
    archive = Archive(tmp_path / "archive")
    truth, names = {}, {}
    for n, (name, data, record) in enumerate(files):
        report_id = archive.ensure_report(f"语料{n:03d}", 2000 + n % 25, name)
        if not data:
            data = b""  # an empty payload is archived like any other
        version_id, _ = archive.store_payload(report_id=report_id, url=f"file:///corpus/{name}", role="local", data=data)
        truth[version_id], names[version_id] = record, name
    jobs = archive.pending_versions()
    stats = extract_versions(archive, jobs, workers=2, time_limit=60, memory_limit=3 * 2**30)
    tally: Counter = Counter()
    reasons: Counter = Counter()
    for row in archive.db.query("SELECT id, extract_status, extract_error, record FROM versions"):
        name = names[row["id"]]
        assert row["extract_status"] in ("ok", "partial", "failed"), name  # partial: rows of its form left out
        if row["extract_status"] == "failed":
            assert row["extract_error"], name
            tally["failed"] += 1
            reasons[row["extract_error"].split(":")[0][:60]] += 1
            continue
        record = json.loads(row["record"])
        tally["read, with warnings" if record["warnings"] else "read"] += 1
        expected = truth[row["id"]]
        for key, value in figures(record):
            if expected is None:
                raise AssertionError(f"{name}: figure {key}={value!r} from a file that holds none")
            table, line, column = key
            assert expected[table][line][column] == value, (name, key)  # never a wrong figure
        if expected is not None and not record["warnings"]:
            assert all(dict(figures(record)).get(k) == v for k, v in figures(expected)), name
    assert stats.ok + stats.failed == len(jobs)
    report = {"files": len(files), "versions": len(jobs), **tally, "failure_reasons": dict(reasons.most_common())}
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "hostile-tally.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))


# ---------------------------------------------------------------- files made to exhaust a reader (issue 16)

LIMIT = 6  # seconds per document in these tests (90 by default)
LIMITS = {"NIANBAO_EXTRACT_TIME_LIMIT": str(LIMIT), "NIANBAO_EXTRACT_MEMORY_LIMIT": "1024"}
# what a clear outcome says: a reader's refusal, or a limit named with its value
CLEAR = re.compile(r"time limit of 6s exceeded|memory limit of 1024 MiB|could not be opened|inflates to|"
                   r"nests deeper|no agency and year|CPU time limit")

MEASURE = """
import resource, subprocess, sys, time
started = time.monotonic()
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(result.stdout)
sys.stderr.write(result.stderr)
print(f"\\nMEASURED {time.monotonic() - started:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}",
      file=sys.stderr)
sys.exit(result.returncode)
"""


def measured(*args) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run `nianbao ARGS` under the test limits; (result, seconds, peak RSS in KiB of the command and its workers)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **LIMITS}
    command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "nianbao.cli", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    seconds, rss = result.stderr.rsplit("MEASURED ", 1)[1].split()
    return result, float(seconds), int(rss)


def within_limits(seconds: float, rss_kib: int, documents: int) -> None:
    """No hang (before the limits, one of these files ran for over 300 s) and no process past the memory limit.
    Generous in time: a shared 2-core machine under load is slow, a hang is not."""
    assert seconds < documents * (LIMIT + 10) + 30, seconds
    assert rss_kib < 1024 * 1024, rss_kib  # no process, worker or parent, grew past the memory limit


@pytest.fixture(scope="module")
def hostile():
    return hostile_files()


@pytest.mark.slow
def test_hostile_files_through_extract_each_a_clear_error_within_the_limits(hostile):
    outcomes = {}
    for name, path in hostile.items():
        result, seconds, rss = measured("extract", path)
        assert result.returncode == 2 and result.stdout == "", (name, result.stdout[:300])
        message = result.stderr.splitlines()[0] if result.stderr.startswith("error:") else result.stderr
        assert message.startswith(f"error: {path}: ") and CLEAR.search(message), (name, result.stderr[-600:])
        within_limits(seconds, rss, 1)
        outcomes[name] = (message.split(": ", 2)[2], seconds)
    print("\n".join(f"{n}: {m} ({s:.1f}s)" for n, (m, s) in outcomes.items()))


@pytest.mark.slow
def test_hostile_files_through_import_refused_with_a_reason_each(hostile, tmp_path):
    data = tmp_path / "archive"
    result, seconds, rss = measured("import", "--data", data, *hostile.values())
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(hostile), result.stderr[-2000:]
    for (name, path), line in zip(hostile.items(), errors):
        assert line.startswith(f"error: {path}: ") and CLEAR.search(line), (name, line)
    within_limits(seconds, rss, len(hostile))
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 0  # refused: nothing imported


class HostileColumn(BaseHTTPRequestHandler):
    """A 年报 column of six reports, each article page linking one hostile file."""

    files: dict[str, Path] = {}

    def do_GET(self):
        names = list(self.files)
        if self.path == "/ndbg/":
            items = "".join(f'<li><a href="/ndbg/{n}.htm">某市某某局{2015 + n}年政府信息公开工作年度报告</a>'
                            f"<span>{2016 + n}-01-20</span></li>" for n in range(len(names)))
            self._send(f"<html><body><ul>{items}</ul></body></html>".encode(), "text/html; charset=utf-8")
        elif self.path.startswith("/ndbg/") and self.path.endswith(".htm"):
            n = int(self.path[6:-4])
            page = (f"<html><body><h1>某市某某局{2015 + n}年政府信息公开工作年度报告</h1><div class='content'>"
                    f"<p>见附件。</p><a href='/files/{names[n]}'>{names[n]}</a></div></body></html>")
            self._send(page.encode(), "text/html; charset=utf-8")
        elif self.path.startswith("/files/") and self.path[7:] in self.files:
            self._send(self.files[self.path[7:]].read_bytes(), "application/octet-stream")
        else:
            self.send_error(404)

    def _send(self, body: bytes, media_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_hostile_files_through_the_crawl_recorded_as_failures_within_the_limits(hostile, tmp_path):
    HostileColumn.files = hostile
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileColumn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    registry = tmp_path / "sites.yml"
    registry.write_text(yaml.safe_dump({"sites": [{
        "id": "hostile", "name": "某市某某局", "region": "某省/某市", "cms": "generic",
        "start_urls": [f"http://127.0.0.1:{server.server_port}/ndbg/"]}]}, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "archive"
    try:
        result, seconds, rss = measured("crawl", "--sites", registry, "--data", data, "-s", "DOWNLOAD_DELAY=0",
                                        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-2000:]
    within_limits(seconds, rss, len(hostile) * 2)  # pages and files
    db = sqlite3.connect(data / "nianbao.db")
    rows = dict(db.execute("SELECT d.url, v.extract_status || ': ' || coalesce(v.extract_error, '') FROM versions v "
                           "JOIN documents d ON d.id = v.document_id WHERE d.role = 'attachment'"))
    assert len(rows) == len(hostile)
    for name in hostile:
        [outcome] = [o for url, o in rows.items() if url.endswith("/" + name)]
        assert outcome.startswith("failed: ") and CLEAR.search(outcome), (name, outcome)
    summary = json.loads(result.stdout)
    assert summary["failed"] == len(hostile) and summary["reports_found"] == len(hostile)
