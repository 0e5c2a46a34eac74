"""How the crawler behaves on the sample portal: politely, within its hosts, incrementally."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
import zlib
from datetime import date, timedelta
from urllib.parse import urlsplit

import yaml

from crawler import settings as defaults

from .conftest import EXPECTED, FAST, OBSTACLES, SAMPLE_SITES, copy_archive, nianbao


def fetches(data, outcome=None):
    db = sqlite3.connect(data / "nianbao.db")
    sql = "SELECT url, status, outcome, reason, referer FROM fetches"
    rows = db.execute(sql + (" WHERE outcome = ?" if outcome else ""), [outcome] if outcome else []).fetchall()
    return [dict(zip(("url", "status", "outcome", "reason", "referer"), r)) for r in rows]


def obstacle(kind):
    return [o for o in OBSTACLES if o["kind"] == kind]


def test_the_address_check_is_the_resolver_scrapy_installs():
    """The resolved-address check lives in the resolver: the project must name it by the setting this Scrapy
    reads (a deprecated or misspelt name would leave Twisted's own resolver, and every private address, in)."""
    from scrapy.settings import Settings
    from scrapy.settings.default_settings import TWISTED_DNS_RESOLVER as scrapy_default
    from scrapy.utils.misc import load_object

    from crawler.resolver import GuardedResolver

    settings = Settings()
    settings.setmodule(defaults, priority="project")
    assert settings["TWISTED_DNS_RESOLVER"] != scrapy_default
    assert issubclass(load_object(settings["TWISTED_DNS_RESOLVER"]), GuardedResolver)
    assert not hasattr(defaults, "DNS_RESOLVER")  # deprecated in Scrapy 2.19: a warning on every crawl's console


def test_polite_defaults():
    assert defaults.ROBOTSTXT_OBEY is True
    assert defaults.AUTOTHROTTLE_ENABLED is True
    assert defaults.CONCURRENT_REQUESTS_PER_DOMAIN == 1
    assert defaults.DOWNLOAD_DELAY >= 1
    assert "nianbao" in defaults.USER_AGENT and "https://" in defaults.USER_AGENT


def test_challenges_are_blocked_fetches_not_reports(crawled):
    blocked = {f["url"].split("127.0.0.1", 1)[1].split("/", 1)[1]: f for f in fetches(crawled["data"], "blocked")}
    for o in obstacle("blocked"):
        fetch = blocked[o["url"].lstrip("/")]
        assert fetch["status"] == o["status"]
        assert ("412" in fetch["reason"]) if o["status"] == 412 else ("challenge stub" in fetch["reason"])
        assert not any(r["title"] == o["title"] for r in crawled["records"])
    assert crawled["summary"]["blocked"] == 2
    assert crawled["summary"]["sites"]["changchun-nanguan-kjj"]["blocked"] == 2


def test_redirect_to_another_host_is_refused_and_logged(crawled):
    (o,) = obstacle("refused")
    refused = fetches(crawled["data"], "refused")
    assert [f["url"] for f in refused] == [o["location"]]
    assert "is not the registry entry's" in refused[0]["reason"]
    assert any(h.path == o["url"] and h.status == 302 for h in crawled["hits"])  # the portal did redirect


def test_robots_disallow_is_respected(crawled):
    (o,) = obstacle("robots")
    assert not any(h.path == o["url"] for h in crawled["hits"])
    assert [f["url"].endswith(o["url"]) for f in fetches(crawled["data"], "robots")] == [True]
    assert not any(r["year"] == 2018 for r in crawled["records"])


def test_referer_gated_download_refuses_a_bare_request(portal):
    url = portal.url + next(h for h in json.load(open(portal.state.site.parent / "routes.json")).items()
                            if h[1].get("referer"))[0]
    try:
        urllib.request.urlopen(url)
        raise AssertionError("download.jsp answered without a Referer")
    except urllib.error.HTTPError as error:
        assert error.code == 403


def test_second_crawl_of_an_unchanged_portal_downloads_no_report_again(crawled, portal, tmp_path):
    """With NIANBAO_RECHECK_DAYS=1 every known report is asked again, each answered 304 to a conditional request."""
    data = tmp_path / "again"
    copy_archive(crawled["data"], data)
    start = len(portal.state.log)
    summary = json.loads(nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data,
                                 "-s", "NIANBAO_RECHECK_DAYS=1", *FAST).stdout)
    hits = portal.state.log[start:]
    documents = sqlite3.connect(data / "nianbao.db").execute("SELECT count(*) FROM documents").fetchone()[0]
    not_modified = [h for h in hits if h.status == 304]
    assert len(not_modified) == documents  # every article page and attachment answered 304
    assert all(h.conditional for h in not_modified)
    files = [h for h in hits if h.status == 200 and any(k in h.path for k in (".pdf", ".doc", "download", "downfile"))]
    assert files == []
    assert summary["new_versions"] == 0 and summary["unchanged"] == documents and summary["reports_found"] == len(EXPECTED)
    versions = sqlite3.connect(data / "nianbao.db").execute("SELECT count(*) FROM versions").fetchone()[0]
    assert versions == documents


def _target(url: str) -> str:
    """What the portal's log records of a request for ``url``: its path and query."""
    return urlsplit(url)._replace(scheme="", netloc="").geturl()


def _due(url: str, day: date, every: int) -> bool:
    """The rotation as the issue states it, written here again: a known report is asked on one night in ``every``."""
    return zlib.crc32(url.encode("utf-8")) % every == day.toordinal() % every


def test_second_crawl_asks_for_list_pages_and_only_the_reports_due_tonight(crawled, portal, tmp_path):
    """The nightly pass (#30): list pages are all asked again, conditionally but on their column's night of the
    rotation; a known report's article page and files only on its night of the rotation (default
    NIANBAO_RECHECK_DAYS, 30), conditionally; the rest are counted `known`, and a site all of whose reports are
    known has not gone quiet (the crawl exits 0)."""
    db = sqlite3.connect(crawled["data"] / "nianbao.db")
    pages = {u for (u,) in db.execute("SELECT url FROM documents WHERE role = 'page'")}
    files = db.execute("SELECT url, referer FROM documents WHERE role = 'attachment'").fetchall()
    columns = {u for (u,) in db.execute("SELECT url FROM columns")}
    port = str(urlsplit(portal.url).port)
    columns |= {u.replace("${PORTAL}", portal.url).replace("${PORTAL_PORT}", port)
                for site in yaml.safe_load(SAMPLE_SITES.read_text())["sites"] for u in site.get("start_urls", [])}
    every = defaults.NIANBAO_RECHECK_DAYS
    assert every == 30
    # the night (of any 30) on which most of the archive's report pages are due (some are, most are not), among
    # those on which some column's list pages are due to be asked in full
    nights = [date(2026, 12, 1) + timedelta(days=n) for n in range(every)]
    day = max((d for d in nights if any(_due(c, d, every) for c in columns)),
              key=lambda d: sum(_due(u, d, every) for u in pages))
    due = {u for u in pages if _due(u, day, every)}
    due_files = {u for u, referer in files if referer in due}
    assert 0 < len(due) < len(pages) / 4 and due_files

    data = tmp_path / "nightly"
    copy_archive(crawled["data"], data)
    start = len(portal.state.log)
    summary = json.loads(nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data,
                                 "-s", f"NIANBAO_RECHECK_DATE={day.isoformat()}", *FAST).stdout)  # exit 0
    hits = portal.state.log[start:]
    asked = {h.path for h in hits}
    assert {u for u in pages if _target(u) in asked} == due
    assert {u for u, _ in files if _target(u) in asked} == due_files
    answered_304 = [h for h in hits if h.status == 304]
    documents = {_target(u) for u in pages | {u for u, _ in files}}
    assert sorted(h.path for h in answered_304 if h.path in documents) == sorted(_target(u) for u in due | due_files)
    assert all(h.conditional for h in answered_304)
    assert {_target(c) for c in columns} <= asked  # every column's list page is asked again
    # conditionally (the portal answers 304: nothing changed), but on the column's own night of the rotation in full
    first_pages = {c: [(h.status, h.conditional) for h in hits if h.path == _target(c)] for c in columns}
    assert {c: a for c, a in first_pages.items() if _due(c, day, every)} == {
        c: [(200, False)] for c in columns if _due(c, day, every)}
    assert {c: a for c, a in first_pages.items() if not _due(c, day, every)} == {
        c: [(304, True)] for c in columns if not _due(c, day, every)}
    assert len(hits) <= len(crawled["hits"]) - (len(pages) - len(due))

    assert summary["known"] == len(pages) - len(due)
    assert summary["reports_found"] == crawled["summary"]["reports_found"]  # known reports are still listed
    assert summary["new_versions"] == 0 and summary["unchanged"] == len(due | due_files)
    sites = summary["sites"]
    assert any(c["known"] and c["known"] == c["reports_found"] for c in sites.values())  # all known: not quiet
    recorded = dict(sqlite3.connect(data / "nianbao.db").execute(
        "SELECT site_id, known FROM run_sites WHERE run_id = (SELECT max(id) FROM runs)").fetchall())
    assert recorded == {site: counts["known"] for site, counts in sites.items()}


def test_a_site_that_had_reports_and_now_has_none_fails_loudly(crawled, portal, tmp_path):
    data = tmp_path / "quiet"
    copy_archive(crawled["data"], data)
    registry = yaml.safe_load(SAMPLE_SITES.read_text(encoding="utf-8"))
    site = next(s for s in registry["sites"] if s["id"] == "qzlj-jyj")
    site["start_urls"] = ["${PORTAL}/zwgk/zfxxgkzl/bmzfxxgk/jyj/moved/"]  # the column moved: 404
    changed = tmp_path / "sites.yml"
    changed.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    result = nianbao("crawl", "--sites", changed, "--portal-url", portal.url, "--data", data, *FAST, check=False)
    assert result.returncode == 4
    assert "yielded reports before and none now: qzlj-jyj" in result.stderr


def test_files_over_the_size_limit_are_refused_and_recorded(portal, tmp_path):
    data = tmp_path / "small"
    result = nianbao("crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, *FAST,
                     "-s", "DOWNLOAD_MAXSIZE=30000", "-s", "NIANBAO_PAGE_MAXSIZE=30000", "--no-extract")
    summary = json.loads(result.stdout)
    refused = fetches(data, "too_large")
    assert summary["too_large"] == len(refused) >= 5
    assert all("larger than download max size (30000)" in f["reason"] for f in refused)
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT max(size) FROM blobs").fetchone()[0] <= 30000  # nothing larger was kept
