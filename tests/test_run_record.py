"""Issue 29: the run belongs to the Scrapy extension, whatever starts the crawl; page scripts the CMS family
cannot read are column failures; a site whose columns all fail exits non-zero."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from nianbao.summary import per_site

from .conftest import EXPECTED, FAST, ROOT, SAMPLE_SITES, nianbao
from .test_hostile_inputs import HostileColumn


def scrapy_crawl(*args) -> subprocess.CompletedProcess:
    """`scrapy crawl` itself, from the project root (scrapy.cfg), as a cron line or a Scrapyd node runs it."""
    command = [sys.executable, "-m", "scrapy.cmdline", "crawl", "columns", *map(str, args),
               "-s", "TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver"]  # as --portal-url sets it
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def run_rows(data: Path) -> dict:
    db = sqlite3.connect(data / "nianbao.db")
    [(command, sites, status, summary, stats)] = db.execute("SELECT command, sites, status, summary, stats FROM runs")
    site_rows = sorted(db.execute("SELECT site_id, reports_found, new_reports, new_versions, unchanged, failed, blocked, "
                                  "skipped FROM run_sites"))
    db.close()
    return {"run": (command, json.loads(sites), status, json.loads(summary)), "run_sites": site_rows,
            "stats": json.loads(stats)}


def cdxj_lines(data: Path) -> int:
    return len((data / "warcs" / "index.cdxj").read_text(encoding="utf-8").splitlines())


@pytest.mark.slow
def test_scrapy_crawl_records_the_same_run_as_nianbao_crawl(portal, tmp_path):
    by_scrapy, by_nianbao, in_parts = tmp_path / "scrapy", tmp_path / "nianbao", tmp_path / "parts"
    scrapy = scrapy_crawl("-a", f"sites_files={SAMPLE_SITES}", "-a", f"portal={portal.url}",
                          "-s", f"NIANBAO_DATA={by_scrapy}", *FAST)
    assert scrapy.returncode == 0, scrapy.stderr[-2000:]
    printed = json.loads(nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", by_nianbao,
                                 "--no-extract", *FAST).stdout)
    nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", in_parts, "--no-extract",
            "--processes", "2", *FAST)

    scrapy_run, nianbao_run, parts_run = run_rows(by_scrapy), run_rows(by_nianbao), run_rows(in_parts)
    assert scrapy_run["run_sites"] and len(scrapy_run["run_sites"]) == len({e["column"] for e in EXPECTED})
    assert scrapy_run["run"] == nianbao_run["run"] == parts_run["run"]  # command, sites, status, summary
    assert scrapy_run["run_sites"] == nianbao_run["run_sites"] == parts_run["run_sites"]
    assert scrapy_run["run"][3]["total"]["reports_found"] == len(EXPECTED) and scrapy_run["run"][3]["gone_quiet"] == []
    # the summary nianbao crawl prints is the one the stats of a scrapy crawl give
    assert per_site(scrapy_run["stats"]) == printed["sites"] == per_site(parts_run["stats"])
    assert scrapy_run["stats"]["nianbao/reports_in_archive"] == printed["reports_in_archive"] == len(EXPECTED)
    assert cdxj_lines(by_scrapy) == cdxj_lines(by_nianbao) == cdxj_lines(in_parts) > 0


@pytest.mark.slow
def test_a_site_gone_quiet_is_recorded_by_a_scrapy_crawl_too(portal, tmp_path):
    data = tmp_path / "data"
    first = scrapy_crawl("-a", f"sites_files={SAMPLE_SITES}", "-a", f"portal={portal.url}",
                         "-s", f"NIANBAO_DATA={data}", *FAST)
    assert first.returncode == 0, first.stderr[-2000:]
    registry = yaml.safe_load(SAMPLE_SITES.read_text(encoding="utf-8"))
    site = next(s for s in registry["sites"] if s["id"] == "qzlj-jyj")
    site["start_urls"] = ["${PORTAL}/zwgk/zfxxgkzl/bmzfxxgk/jyj/moved/"]  # the column moved: 404
    moved = tmp_path / "sites.yml"
    moved.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    second = scrapy_crawl("-a", f"sites_files={moved}", "-a", f"portal={portal.url}", "-s", f"NIANBAO_DATA={data}",
                          *FAST)
    assert second.returncode == 0
    db = sqlite3.connect(data / "nianbao.db")
    summary = json.loads(db.execute("SELECT summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert summary["gone_quiet"] == ["qzlj-jyj"]


def test_the_extension_opens_the_processes_one_archive_in_from_crawler_and_closes_it_when_the_engine_stops(
        tmp_path):
    from scrapy import signals

    from crawler.extension import ArchiveExtension

    from .test_extension import _crawler

    crawler = _crawler(NIANBAO_DATA=str(tmp_path))
    extension = ArchiveExtension.from_crawler(crawler)
    reader = extension._reader.db.conn  # opened here, before the spider opens: the schema is in place
    assert reader.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    assert extension.writer is None  # no run and no writer process before the spider opens
    crawler.signals.send_catch_log(signals.engine_stopped)
    with pytest.raises(sqlite3.ProgrammingError):
        reader.execute("SELECT 1")


def test_the_crawl_command_holds_no_run_bookkeeping():
    """The CLI starts crawls and prints: no Archive, run_sites, gone_quiet or CDXJ of its own."""
    import inspect

    from nianbao import cli

    for command in (cli.crawl, cli.nightly, cli.demo):
        source = inspect.getsource(command.callback)
        for name in ("record_run", "gone_quiet(", "write_cdxj", "Archive("):
            assert name not in source, (command.name, name)


# ---------------------------------------------------------------------- page scripts the family cannot read


def deep_tree(levels: int) -> str:
    return '[{"id": 1, "name": "x", "children": ' * levels + "[]" + "}]" * levels


GKMLPT = "<div id='app'></div><script>window._CONFIG = {{ SID: '755035', TREE: {tree}, SERVICE_AREA_ID: 1 }};</script>"
HOSTILE = {
    # a TREE 5,000 levels deep: json.loads gives up with RecursionError
    "/deep/gkmlpt/index": ("text/html; charset=utf-8", GKMLPT.format(tree=deep_tree(5000))),
    # nodes that are not objects
    "/ints/gkmlpt/index": ("text/html; charset=utf-8", GKMLPT.format(tree='[1, 2, "年报", null]')),
    # a good index whose API answers articles that are not objects
    "/api/gkmlpt/index": ("text/html; charset=utf-8", GKMLPT.format(tree='[{"id": 2713, "name": "政府信息公开年报"}]')),
    "/gkmlpt/api/all/2713?page=1&sid=755035": ("application/json",
                                               json.dumps({"classify": {"post_count": 2}, "articles": [1, "x"]})),
    # a Hanweb datastore whose totalrecord no int() takes (5,000 digits)
    "/col/col1/index.html": ("text/html; charset=utf-8",
                             "<script type='text/xml'><datastore><totalrecord>" + "9" * 5000
                             + "</totalrecord><recordset><record><![CDATA[<li><a href='/a.html'>某局2023年政府信息公开"
                             "工作年度报告</a></li>]]></record></recordset></datastore></script>"),
}


class HostileScripts(HostileColumn):
    """Pages and API answers whose scripts no CMS family can read (HostileColumn's way of answering)."""

    def do_GET(self):
        if self.path not in HOSTILE:
            self.send_error(404)
            return
        media_type, text = HOSTILE[self.path]
        self._send(text.encode("utf-8"), media_type)


@pytest.fixture
def hostile_scripts(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileScripts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    registry = tmp_path / "hostile.yml"
    registry.write_text(yaml.safe_dump({"sites": [
        {"id": "gk-deep", "name": "某市甲局", "region": "广东省/某市", "cms": "gkmlpt", "start_urls": [f"{base}/deep/gkmlpt/index"]},
        {"id": "gk-ints", "name": "某市乙局", "region": "广东省/某市", "cms": "gkmlpt", "start_urls": [f"{base}/ints/gkmlpt/index"]},
        {"id": "gk-api", "name": "某市丙局", "region": "广东省/某市", "cms": "gkmlpt", "start_urls": [f"{base}/api/gkmlpt/index"]},
        {"id": "hanweb-junk", "name": "某市丁局", "region": "江苏省/某市", "cms": "hanweb",
         "start_urls": [f"{base}/col/col1/index.html"]},
    ]}, allow_unicode=True), encoding="utf-8")
    yield registry
    server.shutdown()


HOSTILE_SITES = ["gk-api", "gk-deep", "gk-ints", "hanweb-junk"]


@pytest.mark.slow
def test_page_scripts_no_family_can_read_are_column_failures_that_fail_the_run(portal, hostile_scripts, tmp_path):
    result = nianbao("crawl", "--sites", SAMPLE_SITES, "--sites", hostile_scripts, "--portal-url", portal.url,
                     "--data", tmp_path / "data", "--no-extract", *FAST, check=False)
    assert "Traceback" not in result.stderr and "RecursionError" not in open_log(tmp_path / "data", "Traceback")
    summary = json.loads(result.stdout)
    assert summary["reports_found"] == len(EXPECTED)  # the good sites were crawled as ever
    assert result.returncode == 4
    assert f"error: every column failed on: {', '.join(HOSTILE_SITES)}" in result.stderr
    assert summary["columns_failed"] == 4
    for site in HOSTILE_SITES:
        assert summary["sites"][site]["columns_failed"] == summary["sites"][site]["columns"] == 1
    assert all(summary["sites"][s]["columns_failed"] == 0 for s in summary["sites"] if s not in HOSTILE_SITES)
    failures = {w.split(":", 1)[0]: w for w in summary["warnings"] if "column failed" in w}
    assert sorted(failures) == HOSTILE_SITES
    assert "RecursionError" in failures["gk-deep"] and "AttributeError" in failures["gk-ints"]
    assert "AttributeError" in failures["gk-api"] and "ValueError" in failures["hanweb-junk"]
    db = sqlite3.connect(tmp_path / "data" / "nianbao.db")
    logged = db.execute("SELECT site_id FROM fetches WHERE outcome = 'column_failed' ORDER BY site_id").fetchall()
    assert [s for (s,) in logged] == HOSTILE_SITES


def test_a_site_whose_only_column_fails_to_answer_exits_non_zero(portal, tmp_path):
    registry = yaml.safe_load(SAMPLE_SITES.read_text(encoding="utf-8"))
    site = next(s for s in registry["sites"] if s["id"] == "fengze-fgj")
    site["start_urls"] = ["${PORTAL}/no/such/column/"]  # a site never crawled before: 404 from the first day
    changed = tmp_path / "sites.yml"
    changed.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    result = nianbao("crawl", "--sites", changed, "--portal-url", portal.url, "--data", tmp_path / "data",
                     "--no-extract", *FAST, check=False)
    assert result.returncode == 4 and "error: every column failed on: fengze-fgj" in result.stderr
    assert json.loads(result.stdout)["reports_found"] > 0  # the others found theirs


def open_log(data: Path, needle: str) -> str:
    """Lines of the crawl's Scrapy log holding ``needle``: a callback that crashed leaves a traceback there."""
    return "\n".join(line for log in (data / "logs").glob("*.log")
                     for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if needle in line)


def test_end_run_records_the_summary_and_ends_the_run_even_when_the_index_cannot_be_written(tmp_path):
    from archive.store import Archive
    from crawler.extension import end_run

    archive = Archive(tmp_path)
    run_id = archive.start_run("crawl", ["a", "b"])
    (tmp_path / "warcs" / "index.cdxj.part").mkdir(parents=True)  # where the index is written: not writable as a file
    stats = {"nianbao/site/a/reports_found": 2, "nianbao/site/a/failed": 1, "nianbao/site/b/reports_found": 0}
    ended = end_run(archive, run_id, "finished", stats, ["a", "b"])
    row = archive.db["runs"].get(run_id)
    assert row["status"] == "finished" and "the CDXJ index was not written" in json.loads(row["stats"])["nianbao/warnings"]
    assert ended["nianbao/gone_quiet"] == "" and ended["nianbao/reports_in_archive"] == 0
    assert sorted(archive.db.execute("SELECT site_id, reports_found, failed FROM run_sites").fetchall()) == [
        ("a", 2, 1), ("b", 0, 0)]
