"""Shared fixtures: the sample portal on 127.0.0.1 and one real crawl of it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from nianbao.cli import demo_settings
from sampleportal.server import Portal

ROOT = Path(__file__).resolve().parents[1]
FILES = ROOT / "tests" / "files"
SHARED = ROOT.parent / "shared"  # real documents and seeds, read where they lie (never copied)
SEEDS = SHARED / "seeds"
REAL = SHARED / "real"
SAMPLE_SITES = ROOT / "sampleportal" / "sites.yml"
EXPECTED = json.loads((ROOT / "sampleportal" / "expected.json").read_text(encoding="utf-8"))
OBSTACLES = json.loads((ROOT / "sampleportal" / "obstacles.json").read_text(encoding="utf-8"))
# the demo's pace (nianbao.cli.demo_settings): 8 requests at once and no delay, but the department portal's
# subdomains (www.nianbao-sz.onion and its departments') one request at a time with the demo's delay; the
# sample portal's resolver comes with --portal-url
FAST = [arg for name, value in demo_settings().items() if name != "TWISTED_DNS_RESOLVER"
        for arg in ("-s", f"{name}={json.dumps(value) if isinstance(value, dict) else value}")]


def copy_archive(source: Path, target: Path) -> Path:
    """A copy of an archive another test may be reading: the folder, then the database by SQLite's backup.

    A plain copytree races with the shared crawl's database: a reader closing elsewhere checkpoints and
    deletes nianbao.db-wal between copytree listing it and copying it."""
    shutil.copytree(source, target, ignore=lambda folder, names: [
        name for name in names if Path(folder) == Path(source) and name.startswith("nianbao.db")])
    if (Path(source) / "nianbao.db").exists():
        origin, copy = sqlite3.connect(Path(source) / "nianbao.db"), sqlite3.connect(Path(target) / "nianbao.db")
        try:
            origin.backup(copy)
        finally:
            copy.close()
            origin.close()
    return target


def seed_path(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def nianbao(*args, check=True, **kwargs) -> subprocess.CompletedProcess:
    """Run the real `nianbao` command in a child process (a Twisted reactor runs once per process)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *map(str, args)], capture_output=True, text=True,
                          check=check, env=env, cwd=ROOT, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(data: Path, env: dict | None = None, stderr=subprocess.DEVNULL):
    """`nianbao serve` (a real Datasette) over DATA on a free port, in a process group of its own (serve may
    run Datasette as a child), ready when it answers; stopped, the whole group, on the way out.
    Yields (url, port, process)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "serve", "--data", str(data), "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
                               env={**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)},
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/-/versions.json", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield url, port, process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # serve and the Datasette it started
        except ProcessLookupError:
            pass
        process.wait(10)


@pytest.fixture(scope="session")
def portal():
    with Portal() as server:
        yield server


@pytest.fixture(scope="session")
def crawled(portal, tmp_path_factory):
    """The whole sample portal crawled once by the real Scrapy engine."""
    data = tmp_path_factory.mktemp("archive")
    hits_before, spans_before = len(portal.state.log), len(portal.state.spans)
    result = nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, *FAST)
    spans = portal.state.spans[spans_before:]  # (arrival, answered, Host) of the crawl's GET/HEADs
    exported = nianbao("export", "--data", data).stdout
    records = [json.loads(line) for line in exported.splitlines()]
    return {"data": data, "records": records, "summary": json.loads(result.stdout),
            "hits": portal.state.log[hits_before:], "spans": spans}
