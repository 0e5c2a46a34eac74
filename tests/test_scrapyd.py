"""Past one machine: a real Scrapyd on 127.0.0.1 runs two shard jobs, `nianbao merge` folds them,
and the result is the single-machine crawl's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests
import yaml

from crawler.sites import load, shard_of
from sampleportal.server import Portal

from .conftest import EXPECTED, ROOT, SAMPLE_SITES, nianbao

# the sample portal's resolver: the department portal's column is on names of its own (sampleportal/resolver.py)
SETTINGS = ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "LOG_LEVEL=WARNING",
            "TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def second_host() -> str:
    """A loopback address whose shard differs from 127.0.0.1's (the whole 127/8 is this machine)."""
    from crawler.sites import Site

    first = shard_of(Site("a", "a", ("x",), hosts=("127.0.0.1",)), 2)
    for n in range(2, 50):
        host = f"127.0.0.{n}"
        if shard_of(Site("b", "b", ("x",), hosts=(host,)), 2) != first:
            return host
    raise AssertionError("no loopback address in another shard")


def two_portal_registry(tmp_path, url_a: str, url_b: str):
    registry = yaml.safe_load(SAMPLE_SITES.read_text(encoding="utf-8"))
    for n, site in enumerate(registry["sites"]):
        site["start_urls"] = [u.replace("${PORTAL}", url_a if n % 2 == 0 else url_b)
                              .replace("${PORTAL_PORT}", url_a.rsplit(":", 1)[1]) for u in site["start_urls"]]
    path = tmp_path / "sites.yml"
    path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def scrapyd(tmp_path):
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = {home}/eggs\nlogs_dir = {home}/logs\n"
        f"items_dir =\ndbs_dir = {home}/dbs\nmax_proc = 2\npoll_interval = 0.5\n")
    process = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=home, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(url + "/daemonstatus.json", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    yield url, home
    process.terminate()
    process.wait(10)


def exported(data) -> dict:
    records = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    return {(r["agency"], r["year"]): (r.get("applications"), r.get("review_litigation")) for r in records}


@pytest.mark.slow
def test_two_scrapyd_shards_merged_equal_one_machine(tmp_path, scrapyd):
    url, home = scrapyd
    with Portal() as a, Portal(host=second_host()) as b:
        registry = two_portal_registry(tmp_path, a.url, b.url)
        sites = load(registry)
        shards = {i: [s.id for s in sites if shard_of(s, 2) == i] for i in (0, 1)}
        assert shards[0] and shards[1] and not set(shards[0]) & set(shards[1])

        egg = tmp_path / "nianbao.egg"
        subprocess.run([sys.executable, "-m", "scrapyd_client.deploy", "--build-egg", str(egg)], cwd=ROOT,
                       check=True, capture_output=True)
        with open(egg, "rb") as handle:
            added = requests.post(url + "/addversion.json", data={"project": "nianbao", "version": "1"},
                                  files={"egg": handle}).json()
        assert added["status"] == "ok" and "columns" in requests.get(
            url + "/listspiders.json", params={"project": "nianbao"}).json()["spiders"]
        jobs = []
        for i in (0, 1):
            form = [("project", "nianbao"), ("spider", "columns"), ("sites_files", str(registry)), ("shard", f"{i}/2"),
                    ("setting", f"NIANBAO_DATA={tmp_path / f'shard{i}'}")] + [("setting", s) for s in SETTINGS]
            jobs.append(requests.post(url + "/schedule.json", data=form).json()["jobid"])
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            finished = {j["id"] for j in requests.get(url + "/listjobs.json", params={"project": "nianbao"}).json()["finished"]}
            if set(jobs) <= finished:
                break
            time.sleep(1)
        assert set(jobs) <= finished, list((home / "logs").rglob("*.log"))

        merged = json.loads(nianbao("merge", "--data", tmp_path / "merged", tmp_path / "shard0", tmp_path / "shard1").stdout)
        assert all(s["new_versions"] > 0 for s in merged["shards"])
        nianbao("crawl", "--sites", registry, "--data", tmp_path / "single", *[x for s in SETTINGS for x in ("-s", s)])

    single, combined = exported(tmp_path / "single"), exported(tmp_path / "merged")
    assert len(single) == len(EXPECTED) and combined == single
    import sqlite3

    counts = {name: sqlite3.connect(tmp_path / name / "nianbao.db").execute(
        "SELECT (SELECT count(*) FROM blobs), (SELECT count(*) FROM versions), (SELECT count(*) FROM documents)"
    ).fetchone() for name in ("single", "merged")}
    assert counts["merged"] == counts["single"]  # no duplicate blob or version
    assert len(list((tmp_path / "merged" / "warcs").glob("*.warc.gz"))) == 2
    for i in (0, 1):  # a Scrapyd job records its run as nianbao crawl does: run_sites, summary, CDXJ (issue 29)
        shard = sqlite3.connect(tmp_path / f"shard{i}" / "nianbao.db")
        assert sorted(s for (s,) in shard.execute("SELECT site_id FROM run_sites")) == sorted(shards[i])
        assert json.loads(shard.execute("SELECT summary FROM runs").fetchone()[0])["total"]["reports_found"] > 0
        assert (tmp_path / f"shard{i}" / "warcs" / "index.cdxj").stat().st_size > 0
    assert nianbao("verify", "--data", tmp_path / "merged").returncode == 0
