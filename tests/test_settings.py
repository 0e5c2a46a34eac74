"""Issue 29: nianbao's settings in one place (archive/settings.py), read the same by the crawl, the commands and
the site; the environment overrides them only where documented, a command line wins over it."""

from __future__ import annotations

import re
import sqlite3

import pytest
from scrapy.settings import Settings

from archive import settings
from archive.extraction import configured_workers

from .conftest import ROOT


def crawl_settings(**cmdline) -> Settings:
    """A crawl's settings as nianbao crawl and scrapy crawl build them: the project's, then `-s` pairs."""
    merged = Settings()
    merged.setmodule("crawler.settings", priority="project")
    merged.setdict(cmdline, priority="cmdline")
    return merged


def test_extract_workers_is_one_setting_with_one_default(monkeypatch):
    monkeypatch.delenv("NIANBAO_EXTRACT_WORKERS", raising=False)
    # one default (0: one worker per core), whoever asks: the crawl's settings and a command without a crawl
    assert crawl_settings().getint("NIANBAO_EXTRACT_WORKERS") == settings.DEFAULTS["NIANBAO_EXTRACT_WORKERS"] == 0
    assert configured_workers(crawl_settings()) == configured_workers() == settings.extract_workers()
    monkeypatch.setenv("NIANBAO_EXTRACT_WORKERS", "3")  # documented: the machine's
    assert configured_workers(crawl_settings()) == configured_workers() == configured_workers({}) == 3
    # a command line wins over the environment, in a crawl (-s) and in a command's own -s pairs
    assert configured_workers(crawl_settings(NIANBAO_EXTRACT_WORKERS="2")) == 2
    assert configured_workers({"NIANBAO_EXTRACT_WORKERS": "2"}) == 2


def test_extracting_in_the_crawl_is_its_own_setting_and_never_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("NIANBAO_EXTRACT_IN_CRAWL", "1")
    assert settings.value("NIANBAO_EXTRACT_IN_CRAWL", crawl_settings()) is False
    assert settings.value("NIANBAO_EXTRACT_IN_CRAWL", crawl_settings(NIANBAO_EXTRACT_IN_CRAWL="True")) is True


def test_the_sites_sql_limits_are_read_when_a_connection_opens_not_at_import(monkeypatch):
    from archive.plugins import nianbao_limits

    monkeypatch.setenv("NIANBAO_SQL_MAX_LENGTH", "12345")
    monkeypatch.setenv("NIANBAO_SQL_MAX_RESULT_MB", "1")
    conn = sqlite3.connect(":memory:")
    nianbao_limits.prepare_connection(conn)
    assert conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) == 12345
    with pytest.raises(nianbao_limits.ResultTooLarge, match="more than 1 MB"):
        conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) "
                     "SELECT hex(zeroblob(5000)) FROM n, n AS m").fetchall()


def test_the_public_url_is_one_setting_read_when_needed_by_the_export_and_the_site(monkeypatch):
    from archive.export import LOCAL_SITE, public_url
    from archive.plugins import nianbao_site
    from archive.site_config import REQUEST_BASE

    monkeypatch.delenv("NIANBAO_PUBLIC_URL", raising=False)
    monkeypatch.delenv("NIANBAO_SERVE_URL", raising=False)
    token = REQUEST_BASE.set("http://seen.example")  # this request's own Host, never another's (issue 28)
    try:
        assert public_url() == LOCAL_SITE and nianbao_site.public("/x") == "http://seen.example/x"
    finally:
        REQUEST_BASE.reset(token)
    assert nianbao_site.public("/x") == LOCAL_SITE + "/x"  # outside a request: the served address
    monkeypatch.setenv("NIANBAO_PUBLIC_URL", "https://nianbao.example.org/")
    assert public_url() == "https://nianbao.example.org"
    assert nianbao_site.public("/x") == "https://nianbao.example.org/x"


def test_only_the_settings_module_reads_nianbao_settings_from_the_environment():
    readers = {}
    for path in [*(ROOT / "archive").rglob("*.py"), *(ROOT / "crawler").rglob("*.py"), *(ROOT / "nianbao").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for name in settings.DEFAULTS:
            if re.search(rf"environ(?:\.get)?\(?\[?\s*[\"']{name}", text) or re.search(rf"getenv\(\s*[\"']{name}", text):
                readers.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    assert readers == {}


def test_a_name_that_is_not_a_setting_is_refused():
    with pytest.raises(KeyError, match="not a nianbao setting"):
        settings.value("NIANBAO_NO_SUCH")
