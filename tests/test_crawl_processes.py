"""``nianbao crawl --processes N``: one run split over N Scrapy processes and one writer process.

The truth is the crawl of one process (the session's ``crawled`` archive, made without any of this
module's code): the parts must archive the same documents, with the same bytes and figures, under one
run; and each host must be asked no more than one process would ask of it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from scrapy.settings import Settings

from crawler.sites import Site
from nianbao.crawling import merge_stats, plan

from .conftest import EXPECTED, FAST, ROOT, SAMPLE_SITES, nianbao


def _rows(data, sql):
    with sqlite3.connect(data / "nianbao.db") as db:
        return db.execute(sql).fetchall()


def _settings(**values) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.setdict(values, priority="cmdline")
    return settings


def _site(n: int, host: str) -> Site:
    return Site(id=f"s{n}", name=f"某局{n}", start_urls=(f"http://{host}/ndbg/{n}/",), hosts=(host,))


def test_each_host_is_crawled_from_one_process_when_there_are_hosts_enough():
    sites = [_site(n, host) for n, host in enumerate(["a.gov.cn"] * 3 + ["b.gov.cn"] * 2 + ["c.gov.cn"])]
    parts = plan(sites, 2, _settings(CONCURRENT_REQUESTS=16, CONCURRENT_REQUESTS_PER_DOMAIN=1, DOWNLOAD_DELAY=2))
    assert len(parts) == 2
    hosts = [{site.hosts[0] for site in part.sites} for part in parts]
    assert hosts[0].isdisjoint(hosts[1]) and hosts[0] | hosts[1] == {"a.gov.cn", "b.gov.cn", "c.gov.cn"}
    assert sorted(len(part.sites) for part in parts) == [3, 3]  # a.gov.cn alone; b and c together
    for part in parts:  # the hosts' own budgets untouched; the run's total divided
        assert part.settings == {"CONCURRENT_REQUESTS": 8, "NIANBAO_MAX_REQUESTS": 100000}


def test_entries_that_may_reach_a_common_domain_are_crawled_from_one_process():
    """www. and the bare name are two hosts to Scrapy but one portal (redirects go between them), and an entry's
    allowed_hosts may be another entry's portal: split over processes, such a host would get twice its budget."""
    sites = [Site(id="www", name="甲", start_urls=("http://www.qz.gov.cn/ndbg/",), hosts=("www.qz.gov.cn",)),
             Site(id="bare", name="乙", start_urls=("http://qz.gov.cn/ndbg/",), hosts=("qz.gov.cn",)),
             Site(id="files", name="丙", start_urls=("http://www.fz.gov.cn/ndbg/",), hosts=("www.fz.gov.cn",),
                  allowed_hosts=("files.qz.gov.cn",)),
             Site(id="alone", name="丁", start_urls=("http://www.xm.gov.cn/ndbg/",), hosts=("www.xm.gov.cn",))]
    parts = plan(sites, 2, _settings(CONCURRENT_REQUESTS_PER_DOMAIN=1))
    assert sorted(sorted(site.id for site in part.sites) for part in parts) == [["alone"], ["bare", "files", "www"]]


def test_an_entry_joins_a_group_through_any_domain_of_its_members():
    """Groups merge transitively: 乙 shares qz.gov.cn with 甲 and brings fz.gov.cn; 丙 on qz.gov.cn joins them after,
    and 丁, on fz.gov.cn alone, still finds the group that 乙 brought it into."""
    sites = [Site(id="a", name="甲", start_urls=("http://www.qz.gov.cn/ndbg/",), hosts=("www.qz.gov.cn",)),
             Site(id="b", name="乙", start_urls=("http://qz.gov.cn/ndbg/",), hosts=("qz.gov.cn",),
                  allowed_hosts=("files.fz.gov.cn",)),
             Site(id="c", name="丙", start_urls=("http://qz.gov.cn/gk/",), hosts=("qz.gov.cn",)),
             Site(id="d", name="丁", start_urls=("http://www.fz.gov.cn/ndbg/",), hosts=("www.fz.gov.cn",)),
             Site(id="e", name="戊", start_urls=("http://www.xm.gov.cn/ndbg/",), hosts=("www.xm.gov.cn",))]
    parts = plan(sites, 2, _settings(CONCURRENT_REQUESTS_PER_DOMAIN=1))
    assert sorted(sorted(site.id for site in part.sites) for part in parts) == [["a", "b", "c", "d"], ["e"]]


def test_a_host_shared_by_processes_gets_a_share_of_its_budget_each():
    sites = [_site(n, "www.quanzhou.gov.cn") for n in range(5)]
    parts = plan(sites, 2, _settings(CONCURRENT_REQUESTS_PER_DOMAIN=8, DOWNLOAD_DELAY=0.5,
                                     AUTOTHROTTLE_TARGET_CONCURRENCY=2.0, AUTOTHROTTLE_START_DELAY=1,
                                     AUTOTHROTTLE_MAX_DELAY=30))
    assert [len(part.sites) for part in parts] == [3, 2]
    for part in parts:
        assert part.settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 4  # 2 × 4: the host's 8
        assert part.settings["DOWNLOAD_DELAY"] == 1.0  # each asks half as often
        assert part.settings["AUTOTHROTTLE_TARGET_CONCURRENCY"] == 1.0
        assert part.settings["AUTOTHROTTLE_START_DELAY"] == 2.0
        assert part.settings["AUTOTHROTTLE_MAX_DELAY"] == 60.0  # a host backed off to the cap is asked no faster
    # a host allowed one request at a time (the default) is never shared: one process crawls it
    (alone,) = plan(sites, 2, _settings(CONCURRENT_REQUESTS_PER_DOMAIN=1))
    assert len(alone.sites) == 5 and "DOWNLOAD_DELAY" not in alone.settings


def test_the_parts_stats_add_up_to_one_runs():
    first = {"nianbao/run_id": 7, "downloader/request_count": 10, "nianbao/site/a/reports_found": 3,
             "elapsed_time_seconds": 4.0, "finish_reason": "finished", "nianbao/warnings": "x\ny",
             "nianbao/bound/requests_per_run": 50}
    second = {"nianbao/run_id": 7, "downloader/request_count": 5, "nianbao/site/b/reports_found": 2,
              "elapsed_time_seconds": 6.0, "finish_reason": "shutdown", "nianbao/warnings": "y\nz",
              "nianbao/bound/requests_per_run": 50, "nianbao/stopped": 1}
    assert merge_stats([first, second]) == {
        "nianbao/run_id": 7, "downloader/request_count": 15, "nianbao/site/a/reports_found": 3,
        "nianbao/site/b/reports_found": 2, "elapsed_time_seconds": 6.0, "finish_reason": "finished\nshutdown",
        "nianbao/warnings": "x\ny\nz", "nianbao/bound/requests_per_run": 50, "nianbao/stopped": 1}


def _documents(data) -> list[tuple]:
    return _rows(data, "SELECT d.url, d.role, d.format, v.sha256, v.record IS NOT NULL FROM documents d "
                       "JOIN versions v ON v.document_id = d.id ORDER BY d.url, v.sha256")


def _without_failed(sites: dict) -> dict:
    return {site: {k: v for k, v in counts.items() if k != "failed"} for site, counts in sites.items()}


def _figures(records: list[dict]) -> dict:
    figures = ("active_disclosure", "applications", "review_litigation", "checks", "sections", "source")
    return {(r["agency"], r["year"], r["title"]): [r[key] for key in figures] for r in records}


def test_two_processes_archive_what_one_process_archives_under_one_run(crawled, portal, tmp_path):
    data = tmp_path / "parts"
    result = nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "--processes", 2,
                     *FAST)
    assert "in 2 processes" in result.stderr
    summary = json.loads(result.stdout)
    # an attempt the loaded portal closed early and a retry then fetched (it happens to one-process crawls too)
    # is a network event, not a difference: every such URL must have been fetched after all
    retried = _rows(data, "SELECT DISTINCT url FROM fetches WHERE outcome = 'error'")
    fetched = set(_rows(data, "SELECT url FROM fetches WHERE outcome = 'fetched'"))
    assert all(url in fetched for url in retried)
    assert _without_failed(summary["sites"]) == _without_failed(crawled["summary"]["sites"])
    assert _documents(data) == _documents(crawled["data"])
    assert len(_documents(data)) > 40
    exported = [json.loads(line) for line in nianbao("export", "--data", data).stdout.splitlines()]
    assert _figures(exported) == _figures(crawled["records"])
    ((run_id, status, stats),) = _rows(data, "SELECT id, status, stats FROM runs")
    assert status == "finished"
    stats = json.loads(stats)
    assert stats["nianbao/run_id"] == run_id
    fetched = _rows(data, f"SELECT count(*) FROM fetches WHERE run_id = {run_id} AND outcome = 'fetched'")[0][0]
    assert stats["downloader/response_count"] == fetched  # both parts' responses, in the one fetch log
    assert len(list((data / "warcs").glob("*.warc.gz"))) == 1
    assert {f"crawl-part{n}" for n in (1, 2)} <= {log.name.rsplit("-", 2)[0] for log in (data / "logs").glob("*.log")}


def _crawl_in_parts(portal, data, *settings):
    return subprocess.Popen(
        [sys.executable, "-m", "nianbao.cli", "crawl", "--sites", str(SAMPLE_SITES), "--portal-url", portal.url,
         "--data", str(data), "--no-extract", "--processes", "2", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "LOG_LEVEL=INFO", *settings],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def _wait_for_fetches(data, count: int, deadline: float = 60, table: str = "fetches") -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if _rows(data, f"SELECT count(*) FROM {table}")[0][0] >= count:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} {table} logged in {deadline}s")


def test_a_ctrl_c_stops_every_part_gracefully_and_the_run_is_stopped(portal, tmp_path):
    data = tmp_path / "d"
    crawl = _crawl_in_parts(portal, data, "-s", "DOWNLOAD_DELAY=0.4")
    _wait_for_fetches(data, 10)
    crawl.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C sends the command's process
    out, err = crawl.communicate(timeout=60)
    assert err.count("shutting down gracefully") == 2, err[-3000:]  # each part heard it once
    assert "forcing unclean shutdown" not in err
    assert _rows(data, "SELECT status FROM runs") == [("stopped",)]
    fetched = _rows(data, "SELECT count(*) FROM fetches WHERE outcome = 'fetched'")[0][0]
    assert 10 <= fetched < 60  # the whole portal is ~150 fetches


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(child) for child in handle.read().split()]


def test_a_part_killed_fails_the_crawl_and_the_next_crawl_resumes_the_run(portal, tmp_path):
    data = tmp_path / "d"
    crawl = _crawl_in_parts(portal, data, "-s", "DOWNLOAD_DELAY=0.15")
    _wait_for_fetches(data, 10)
    part = max(_children(crawl.pid))  # started last: the second part (the writer and the first came before)
    os.kill(part, signal.SIGKILL)
    out, err = crawl.communicate(timeout=60)
    assert crawl.returncode == 1
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "part 2: ended with exit code -9" in line and "left to resume" in line and "Traceback" not in err
    assert _rows(data, "SELECT status FROM runs") == [("running",)]  # as after a kill: the next run resumes it
    archived = _rows(data, "SELECT count(*) FROM documents")[0][0]
    assert archived > 0
    again = nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "--no-extract",
                    "--processes", "2", *FAST)
    assert json.loads(again.stdout)["reports_found"] == len(EXPECTED)
    assert _rows(data, "SELECT id, status FROM runs") == [(1, "interrupted"), (2, "finished")]
    stats = json.loads(_rows(data, "SELECT stats FROM runs WHERE id = 2")[0][0])
    assert stats["nianbao/resumed"] == archived  # what either part of the killed run archived is not fetched again


def test_a_nightly_in_two_processes_killed_resumes_from_each_parts_job_directory(portal, tmp_path):
    from nianbao.nightly import JOBDIR_NAME

    data = tmp_path / "d"
    night = subprocess.Popen(
        [sys.executable, "-m", "nianbao.cli", "nightly", "--sites", str(SAMPLE_SITES), "--portal-url", portal.url,
         "--data", str(data), "--processes", "2", "-s", "DOWNLOAD_DELAY=0.15", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "LOG_LEVEL=ERROR"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # some reports archived (not only fetches: the department portal's nine hosts each ask robots.txt first)
    _wait_for_fetches(data, 3, table="documents")
    os.kill(night.pid, signal.SIGKILL)  # the parts and the writer die with it (PR_SET_PDEATHSIG)
    night.wait()
    time.sleep(1)
    parts = sorted(p.name for p in (data / JOBDIR_NAME).iterdir())
    assert [name.split("-")[0] for name in parts] == ["part1of2", "part2of2"]
    assert _rows(data, "SELECT status FROM runs") == [("running",)]
    archived = _rows(data, "SELECT count(*) FROM documents")[0][0]
    resumed = nianbao("nightly", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data,
                      "--processes", 2, *FAST, timeout=600)
    report = json.loads(resumed.stdout)
    assert report["resumed"] is True and not (data / JOBDIR_NAME).exists()
    stats = json.loads(_rows(data, "SELECT stats FROM runs WHERE id = 2")[0][0])
    assert stats["nianbao/resumed"] == archived
    published = sqlite3.connect(data / "published" / "nianbao.db")
    assert published.execute("SELECT count(*) FROM reports WHERE source_version_id IS NOT NULL").fetchone()[0] \
        == len(EXPECTED)


def test_parts_closed_at_their_bound_finish_the_run_as_one_process_would(portal, tmp_path):
    data = tmp_path / "d"
    nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "--no-extract",
            "--processes", 2, "-s", "NIANBAO_MAX_REQUESTS=20", *FAST, check=False)
    ((status, stats),) = _rows(data, "SELECT status, stats FROM runs")
    assert json.loads(stats)["finish_reason"].split("\n") == ["bound_requests_per_run"]
    assert status == "finished"  # bounded, not stopped: nobody pressed Ctrl-C
