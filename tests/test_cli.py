"""The public `nianbao` commands, run as a user runs them."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from urllib.parse import urlsplit

import pytest

from .conftest import EXPECTED, FAST, ROOT, SAMPLE_SITES, copy_archive, nianbao, seed_path
from .processes import processes_mentioning

FRONT_DOOR = json.loads((ROOT / "sampleportal" / "frontdoor.json").read_text(encoding="utf-8"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_extract_prints_the_canonical_record():
    result = nianbao("extract", seed_path("001"))
    record = json.loads(result.stdout)
    assert record["title"] == "嘉兴市科学技术局2020年度政府信息公开工作年度报告"
    assert record["active_disclosure"]["licensing"]["decisions"] == 2052
    assert len(record["source"]["sha256"]) == 64


def test_extract_unreadable_file_exits_non_zero_with_a_message(tmp_path):
    broken = tmp_path / "report.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    result = nianbao("extract", broken, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "report.pdf" in result.stderr and "PDF could not be opened" in result.stderr


def test_demo_then_export_lists_every_report_once(tmp_path):
    data = tmp_path / "demo"
    demo = nianbao("demo", "--no-serve", "--data", data, timeout=600)
    records = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    # the hand-written columns, and the township columns only discovery from the front door finds
    want = EXPECTED + FRONT_DOOR["reports"]
    assert Counter((r["agency"], r["year"]) for r in records) == Counter((e["agency"], e["year"]) for e in want)
    # sites.yml names the district's four columns; the walk leaves them to it and finds the townships'
    assert "350504: 3 column(s) in" in demo.stderr and "and 4 linked column(s) other registry entries crawl" in demo.stderr
    # the portal's address, or (the department portal's column) its names, on the portal's port
    port = json.loads((data / "demo-portal.json").read_text())["port"]
    assert all(r["versions"] >= 1 and r["first_seen"] for r in records)
    assert {urlsplit(r["url"]).port for r in records} == {port}
    assert {urlsplit(r["url"]).hostname for r in records} == {"127.0.0.1"} | {
        urlsplit(e["url"]).hostname for e in EXPECTED if e["family"] == "subdomain-departments"}


def _summary_of(output: str) -> dict:
    return json.loads(output[output.index("{"):])


def test_demo_twice_is_a_quiet_recrawl(tmp_path):
    """The second demo finds the sample portal where the first left it: the township columns discovery stored are
    crawled by their URLs, and the known reports due tonight (NIANBAO_RECHECK_DAYS' rotation) are asked again,
    unchanged; the others are counted known; nothing new, nothing failed."""
    from datetime import UTC, datetime

    from .test_crawler_behaviour import _due

    data = tmp_path / "demo"
    first = _summary_of(nianbao("demo", "--no-serve", "--data", data, timeout=600).stdout)
    tonight = datetime.now(UTC).date()
    second = _summary_of(nianbao("demo", "--no-serve", "--data", data, timeout=600).stdout)
    assert first["new_versions"] > 80 and first["unchanged"] == 0 and first["known"] == 0
    db = sqlite3.connect(data / "nianbao.db")
    pages = {u for (u,) in db.execute("SELECT url FROM documents WHERE role = 'page'")}
    due = {u for u in pages if _due(u, tonight, 30)}
    due_documents = due | {u for u, page in db.execute("SELECT url, referer FROM documents WHERE role = 'attachment'")
                           if page in due}
    if datetime.now(UTC).date() == tonight:  # the demo did not cross midnight
        assert (second["new_versions"], second["unchanged"], second["known"]) == \
            (0, len(due_documents), len(pages) - len(due))
    assert second["failed_fetches"] == second["http_errors"] == 0
    # the district's entry: its township columns were found by the first demo's walk and are crawled as known ones
    assert "known columns" in second["sites"]["350504"]["discovery"]
    assert second["sites"]["350504"]["reports_found"] == first["sites"]["350504"]["reports_found"] > 0
    assert {site: counts["reports_found"] for site, counts in second["sites"].items()} == \
        {site: counts["reports_found"] for site, counts in first["sites"].items()}
    versions, documents = sqlite3.connect(data / "nianbao.db").execute(
        "SELECT (SELECT count(*) FROM versions), (SELECT count(*) FROM documents)").fetchone()
    assert versions == documents == first["new_versions"]


def test_export_csv_has_one_row_per_report(crawled):
    lines = nianbao("export", "--data", crawled["data"], "--format", "csv").stdout.splitlines()
    assert lines[0].startswith("report_id,agency,province")
    assert len(lines) == 1 + len(EXPECTED)


def test_export_into_a_closed_pipe_exits_0(crawled):
    """`nianbao export | head`: the reader stops early; that is not an error."""
    process = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "export", "--data", str(crawled["data"])],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    first = process.stdout.readline()
    process.stdout.close()  # as head does after its lines
    stderr = process.stderr.read().decode()
    assert json.loads(first)["agency"]
    assert process.wait(60) == 0, stderr
    assert "BrokenPipe" not in stderr and "Traceback" not in stderr


def test_killing_serve_stops_datasette(crawled, tmp_path):
    data = tmp_path / "archive"
    copy_archive(crawled["data"], data)
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "serve", "--data", str(data), "--port", str(port)],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/-/versions.json"
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        raise AssertionError("serve never answered")
    assert processes_mentioning(str(data)) == [process.pid]  # one process: serve became Datasette
    process.kill()
    process.wait(10)
    time.sleep(0.5)
    assert processes_mentioning(str(data)) == []
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_crawl_and_nightly_help_list_every_exit_code():
    for command in ("crawl", "nightly"):
        text = nianbao(command, "--help").stdout
        section = text[text.index("Exit codes:"):]
        codes = {line.split()[0] for line in section.splitlines()[1:] if line.strip()[:1].isdigit()}
        assert codes >= {"0", "1", "2", "3", "4", "75"}, (command, codes)
    assert "  5   " in nianbao("nightly", "--help").stdout


def test_crawl_summary_is_full_width_outside_a_terminal_and_scrapy_logs_to_a_file(crawled, portal, tmp_path):
    """stderr is a pipe here: no site id cut to `qzl…`, no Scrapy INFO lines; those go to DIR/logs/."""
    data = tmp_path / "archive"
    copy_archive(crawled["data"], data)
    result = nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, *FAST,
                     "-s", "LOG_LEVEL=INFO", "--no-extract")
    logs = sorted((data / "logs").glob("crawl-*.log"))
    assert len(logs) == 2 and "[scrapy.core.engine] INFO: Spider opened" in logs[-1].read_text()
    assert " INFO: " not in result.stderr
    for site in crawled["summary"]["sites"]:
        assert site in result.stderr, site
    assert "…" not in result.stderr
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT DISTINCT command FROM runs").fetchall() == [("crawl",)]
    sites = db.execute("SELECT count(DISTINCT site_id), count(DISTINCT run_id) FROM run_sites").fetchone()
    assert sites == (len(crawled["summary"]["sites"]), 2)  # filled by both crawls


def test_a_national_runs_table_lists_the_sites_that_need_a_look_and_a_small_runs_every_site(capsys):
    """A registry of 3,200 portals makes a table nobody reads: past 40 sites only the ones that found nothing
    or met trouble are rows; the JSON summary keeps every site."""
    from nianbao.cli import _print_sites

    fine = {"reports_found": 6, "new_versions": 6, "failed": 0, "blocked": 0, "coverage_short": 0}
    sites = {f"fine{n:02d}": dict(fine) for n in range(45)}
    sites |= {"nothing": {**fine, "reports_found": 0}, "failing": {**fine, "failed": 2},
              "short": {**fine, "coverage_short": 1}}
    _print_sites(sites)
    table = capsys.readouterr().err
    rows = [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")]
    assert rows == ["failing", "nothing", "short"]
    assert "3 of 48 sites" in table
    _print_sites({f"fine{n:02d}": dict(fine) for n in range(5)})
    table = capsys.readouterr().err
    assert [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")] == \
        [f"fine{n:02d}" for n in range(5)]


def test_crawl_in_a_terminal_shows_progress_per_site(portal, tmp_path):
    """stderr a terminal (a pty): a live table of pages, reports and files per site while the crawl runs."""
    import pty
    import re

    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "crawl", "--no-extract", "--sites", str(SAMPLE_SITES),
                                "--portal-url", portal.url, "--data", str(tmp_path / "archive"), *FAST],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"},
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the crawl closed its end
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.wait(120) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", errors="replace"))
    assert "crawling" in text and re.search(r"site\s*┃\s*pages\s*┃\s*reports\s*┃\s*files", text)
    live = text[:text.index("crawl summary per site")]
    frames = re.findall(r"│ qzlj-jyj\s+│\s+(\d+) │\s+(\d+) │\s+(\d+) │", live)
    assert frames and max(int(f[1]) for f in frames) == 6  # its six reports counted as they were found
