"""Shared fixtures: the sample portal on 127.0.0.1 and one real crawl of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sampleportal.server import Portal

ROOT = Path(__file__).resolve().parents[1]
FILES = ROOT / "tests" / "files"
SHARED = ROOT.parent / "shared"  # real documents and seeds, read where they lie (never copied)
SEEDS = SHARED / "seeds"
REAL = SHARED / "real"
SAMPLE_SITES = ROOT / "sampleportal" / "sites.yml"
EXPECTED = json.loads((ROOT / "sampleportal" / "expected.json").read_text(encoding="utf-8"))
OBSTACLES = json.loads((ROOT / "sampleportal" / "obstacles.json").read_text(encoding="utf-8"))
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "LOG_LEVEL=WARNING"]


def seed_path(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def nianbao(*args, check=True, **kwargs) -> subprocess.CompletedProcess:
    """Run the real `nianbao` command in a child process (a Twisted reactor runs once per process)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *map(str, args)], capture_output=True, text=True,
                          check=check, env=env, cwd=ROOT, **kwargs)


@pytest.fixture(scope="session")
def portal():
    with Portal() as server:
        yield server


@pytest.fixture(scope="session")
def crawled(portal, tmp_path_factory):
    """The whole sample portal crawled once by the real Scrapy engine."""
    data = tmp_path_factory.mktemp("archive")
    hits_before = len(portal.state.log)
    result = nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, *FAST)
    exported = nianbao("export", "--data", data).stdout
    records = [json.loads(line) for line in exported.splitlines()]
    return {"data": data, "records": records, "summary": json.loads(result.stdout),
            "hits": portal.state.log[hits_before:]}
