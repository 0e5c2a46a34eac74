"""The crawl's archive as a Scrapy extension; errors told apart by type; the streaming handler's internals.

Scrapy's own test crawler (``scrapy.utils.test.get_crawler``) builds the components from the project's
settings, as a crawl does; the fetch log is read back from the real SQLite file.
"""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.core.downloader.handlers.http11 import _ResponseReader, _ScrapyAgent
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
)
from scrapy.settings import Settings
from scrapy.utils.reactor import install_reactor
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionLost, ConnectionRefusedError, DNSLookupError, TCPTimedOutError

from archive.store import Archive
from crawler import downloads
from crawler.downloads import TooLarge
from crawler.extension import ArchiveExtension
from crawler.middlewares import FetchLogMiddleware, ForbiddenByRobots, ResumeMiddleware
from crawler.spiders.columns import ColumnSpider


def _crawler(**settings):
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")  # the project's (crawler/settings.py)
    merged = Settings()
    merged.setmodule("crawler.settings", priority="project")
    for name, value in settings.items():
        merged.set(name, value, priority="cmdline")
    crawler = get_crawler(ColumnSpider, merged.copy_to_dict())
    crawler.spider = ColumnSpider(sites=[])
    crawler.spider.crawler = crawler
    return crawler


def test_without_a_data_directory_the_extension_and_what_needs_it_are_not_configured():
    crawler = _crawler(NIANBAO_DATA="")
    with pytest.raises(NotConfigured, match="NIANBAO_DATA"):
        ArchiveExtension.from_crawler(crawler)


def _fetch_log(tmp_path, exception) -> list[tuple]:
    crawler = _crawler(NIANBAO_DATA=str(tmp_path), NIANBAO_WRITE_GROUP=1)
    extension = ArchiveExtension.from_crawler(crawler)
    crawler.get_extension = lambda cls: extension  # the extension manager is built by a running crawl
    extension.open()
    middleware = FetchLogMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1:9/a.pdf", meta={"site": {"id": "s1"}})
    middleware.process_exception(request, exception)
    extension.write(Archive.flush_writes).result()  # the rows are handed to the writer in batches
    extension.writer.close()
    with sqlite3.connect(tmp_path / "nianbao.db") as db:
        return db.execute("SELECT outcome, reason FROM fetches").fetchall()


@pytest.mark.parametrize("exception, outcome", [
    (ForbiddenByRobots("refused"), "robots"),
    (TooLarge("cut off"), "too_large"),
    (DownloadCancelledError("download max size reached"), "error"),  # the old text test would say too_large
])
def test_failures_are_told_apart_by_their_type_not_their_words(tmp_path, exception, outcome):
    rows = _fetch_log(tmp_path, exception)
    assert [row[0] for row in rows] == [outcome]


def _wrapped(outer, inner):
    """As Scrapy 2.19's download handler raises them: its own exception, from Twisted's."""
    try:
        raise outer(str(inner)) from inner
    except outer as exc:
        return exc


def _tls_failure():
    from OpenSSL import SSL
    from twisted.python.failure import Failure
    from twisted.web._newclient import ResponseNeverReceived

    try:
        raise SSL.Error([("SSL routines", "", "wrong version number")])
    except SSL.Error:
        return _wrapped(DownloadFailedError, ResponseNeverReceived([Failure()]))


@pytest.mark.parametrize("make, outcome", [
    (lambda: _wrapped(CannotResolveHostError, DNSLookupError("no results for hostname lookup: x.gov.cn")), "dns_error"),
    (lambda: DNSLookupError("x.gov.cn"), "dns_error"),
    (lambda: DownloadTimeoutError("Getting http://x.gov.cn/ took longer than 60.0 seconds."), "timeout"),
    (lambda: TCPTimedOutError(), "timeout"),
    (lambda: _wrapped(DownloadConnectionRefusedError, ConnectionRefusedError()), "connection_refused"),
    (_tls_failure, "tls_error"),
    (lambda: _wrapped(DownloadFailedError, ConnectionLost()), "connection_lost"),
    (lambda: ValueError("something else"), "error"),
])
def test_fetch_outcomes_by_the_exception_type_scrapy_names(tmp_path, make, outcome):
    exception = make()
    ((logged, reason),) = _fetch_log(tmp_path, exception)
    assert logged == outcome
    assert reason.startswith(f"{type(exception).__module__}.{type(exception).__qualname__}: ")


def test_an_ignored_request_that_only_mentions_robots_txt_is_not_recorded_as_robots(tmp_path):
    assert _fetch_log(tmp_path, IgnoreRequest("Forbidden by robots.txt")) == []


def test_middlewares_that_need_the_archive_step_aside_without_one():
    crawler = _crawler(NIANBAO_DATA="")
    crawler.get_extension = lambda cls: None
    with pytest.raises(NotConfigured):
        ResumeMiddleware.from_crawler(crawler)


def test_a_spider_given_loaded_entries_does_not_read_the_registry_again(monkeypatch):
    from crawler import sites

    def refuse(*args, **kwargs):
        raise AssertionError("the registry was loaded a second time")

    monkeypatch.setattr(sites, "select", refuse)
    monkeypatch.setattr(sites, "load", refuse)
    assert ColumnSpider(sites=[]).sites == []


def test_the_scrapy_internals_streaming_needs_are_there():
    """Each private piece of Scrapy's HTTP/1.1 handler that crawler/downloads.py stands in for, as it relies on it."""
    assert list(inspect.signature(_ScrapyAgent._cb_bodyready).parameters) == ["self", "txresponse", "request"]
    assert set(downloads.INTERNALS) == {_ScrapyAgent._cb_bodyready, _ResponseReader.__init__,
                                        _ResponseReader.dataReceived, _ResponseReader._finish_response}
    for function, fragments in downloads.INTERNALS.items():
        source = inspect.getsource(function)
        for fragment in fragments:
            assert fragment in source, f"{function.__qualname__} no longer has {fragment!r}"


def test_an_anti_bot_answer_is_refused_as_blocked(tmp_path):
    from scrapy.http import HtmlResponse

    from crawler.blocks import Blocked

    crawler = _crawler(NIANBAO_DATA=str(tmp_path), NIANBAO_WRITE_GROUP=1)
    extension = ArchiveExtension.from_crawler(crawler)
    crawler.get_extension = lambda cls: extension
    extension.open()
    request = Request("http://127.0.0.1:9/list.html", meta={"site": {"id": "s1"}})
    with pytest.raises(Blocked, match="412"):
        FetchLogMiddleware.from_crawler(crawler).process_response(
            request, HtmlResponse(request.url, status=412, body=b"<html></html>", request=request))
    extension.writer.close()


_OPENS_A_WRITER = """
import sys
from crawler.writer import open_writer
writer = open_writer(sys.argv[1])
print(writer.pid(), flush=True)
sys.stdin.read()
"""


def test_the_archive_writer_is_a_process_that_dies_with_the_crawl(tmp_path):
    """Its Python runs beside the reactor's, not under the same interpreter lock; a SIGKILL of the crawl
    leaves no writer behind to go on writing (or holding the archive)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    crawl = subprocess.Popen([sys.executable, "-c", _OPENS_A_WRITER, str(tmp_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    writer = int(crawl.stdout.readline())
    assert writer != crawl.pid and _alive(writer)
    os.kill(crawl.pid, signal.SIGKILL)
    crawl.wait()
    deadline = time.monotonic() + 10
    while _alive(writer) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(writer)


def test_a_writer_that_died_fails_every_call_instead_of_hanging_the_crawl(tmp_path):
    import os
    import signal
    import time

    from archive.store import ArchiveWriteError
    from crawler.writer import WriterProcess, _pid

    process = WriterProcess(tmp_path, clients=2)
    crawl_side, own = process.clients
    os.kill(own.pid(), signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(ArchiveWriteError, match="writer process has died"):
        crawl_side.call(_pid)
    with pytest.raises(ArchiveWriteError, match="writer process has died"):
        crawl_side.call(_pid)  # at once, the second time
    assert time.monotonic() - started < 10
    process._process.join()


def test_the_writer_process_shows_its_role_to_top_and_ps(tmp_path):
    from crawler.writer import open_writer

    writer = open_writer(tmp_path)
    try:
        assert Path(f"/proc/{writer.pid()}/comm").read_text().strip() == "nianbao-writer"
    finally:
        writer.close()


_WRITER_IMPORTS = """
import pickle, sys
import nianbao.cli  # noqa: F401 - a spawned writer imports the command's module first (as __mp_main__)
from crawler.writer import _serve  # noqa: F401 - its target
pickle.loads(sys.stdin.buffer.read())  # what the crawl sends it: functions, by module and name
print(sorted({name.split(".")[0] for name in sys.modules} & {"scrapy", "twisted", "parsel"}))
"""


def test_the_writer_process_starts_without_importing_scrapy(tmp_path):
    """The crawl waits for the writer's first answer (start_run) before its first request: Scrapy's import was half
    of the writer's start-up. What the writer runs for a crawl imports no Scrapy (crawler/run_writes.py)."""
    import pickle
    import subprocess
    import sys

    from crawler.extension import _log_fetches, _start_run, end_run
    from crawler.item_pipelines.archive_payload import _keep
    from crawler.writer import _pid, fail_storage

    sent = pickle.dumps([_start_run, end_run, _log_fetches, _keep, fail_storage, _pid, Archive.flush_if_due,
                         Archive.flush_writes])
    done = subprocess.run([sys.executable, "-c", _WRITER_IMPORTS], input=sent, capture_output=True, check=True)
    assert done.stdout.decode().strip() == "[]", done.stderr.decode()[-2000:]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "State:\tZ" not in status.read()  # a zombie has died, only not yet been reaped
    except FileNotFoundError:
        return False
