"""The crawl's archive, as a Scrapy extension: its connections, the run record, the crawl's counters.

The run belongs to this extension, whatever started the crawl: ``nianbao crawl``, ``scrapy crawl
columns`` from the project root, or a Scrapyd job record the same run. ``from_crawler`` opens the
process's one ``Archive`` (the reader below), closed on ``engine_stopped``. When the spider opens
(``spider_opened``) the extension marks a killed run interrupted, starts this run's record and WARC
file, remembers what a killed run already archived (the resume set), records the registry entries
and starts the timer that commits a group of writes when the crawl goes quiet. When the spider
closes (``spider_closed``) it lets the spider record coverage and discovery, commits the last
group, optionally extracts a shard, and ends the run (``end_run``): the summary per site
(``run_sites``, ``runs.summary``), the sites gone quiet, the CDXJ index, then the run's status and
stats. The ``nianbao`` command only starts crawls and prints what the run recorded. With
``--processes N`` the parts join one run and the command's process ends it with the same
``end_run`` and the parts' stats added up: one run still.

Writes never run on the reactor: the archive that writes lives in a process of its own
(crawler/writer.py), which takes payloads, WARC records and fetch-log rows in the order they
were handed over and commits them in groups (archive/store.py keeps the crash-safe order: bytes
on disk before the rows that point at them). The reactor reads through a second connection
(``reader``); it sees what the writer has committed, which is all a crawl reads: validators and
archived pages of earlier runs.

Every other component reaches the extension with ``ArchiveExtension.of(crawler)``: the download
handler for the spool directory, the middlewares for validators, the resume set and the fetch
log, the item pipeline to store payloads, the spider to read archived pages. Counters go through
``count`` only (the function below), so each one is a key of Scrapy's stats collector and
nowhere else (``nianbao/NAME`` and ``nianbao/site/SITE/NAME``).

Without a data directory (``NIANBAO_DATA`` empty) the extension is not configured and the
components that need it step aside: a crawl then archives nothing.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive import settings as shared
from archive.store import Archive, StorageFailed, now

from .run_writes import _log_fetches, _start_run, end_run  # noqa: F401 (end_run: re-exported)
from .writer import WriterClient, fail_storage, open_writer

logger = logging.getLogger(__name__)
FETCH_ROWS_PER_HANDOVER = 256  # fetch-log rows handed to the writer at once (and at every tick of the timer)


def count(stats, site_id: str | None, name: str, value: int = 1) -> None:
    """The one counter of the crawl, kept in Scrapy's stats collector: run-wide and per registry site."""
    stats.inc_value(f"nianbao/{name}", value)
    if site_id:
        stats.inc_value(f"nianbao/site/{site_id}/{name}", value)


class ArchiveExtension:
    def __init__(self, crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.writer: WriterClient | None = None
        self.joined: JoinedRun | None = None
        self._reader: Archive | None = None
        self.run_id: int | None = None
        self.resume_urls: set[str] = set()
        self._fetch_rows: list[dict] = []
        self._spool_dir = None
        self._flusher = None
        self._starting: tuple[WriterClient, Future] | None = None  # the writer and its start_run, not yet awaited

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("NIANBAO_DATA"):
            raise NotConfigured("NIANBAO_DATA is empty: a crawl without an archive directory archives nothing")
        extension = cls(crawler)
        # the process's one Archive; it applies the schema first, so the writer's own Archive() finds it in place
        extension._reader = Archive(crawler.settings.get("NIANBAO_DATA"))
        extension._start_writer()
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    @staticmethod
    def of(crawler) -> ArchiveExtension | None:
        """The crawl's extension, or None when it is not configured."""
        return crawler.get_extension(ArchiveExtension)

    # ------------------------------------------------------------------ opening

    def spider_opened(self, spider=None):
        self.open()

    def _start_writer(self) -> None:
        """The writer process and the run's start, asked for as soon as the extension exists and answered in
        ``open``: a new interpreter's start-up and the run's first writes overlap with the rest of Scrapy's
        (they were most of a small crawl's time before its first request). ``nianbao crawl`` starts the writer
        process earlier still, before it imports Scrapy, and hands it over as the spider's ``started_writer``."""
        spider = getattr(self.crawler, "spider", None)  # made before the extensions (Crawler.crawl)
        if spider is None or getattr(spider, "joined_run", None) is not None:
            return
        writer = getattr(spider, "started_writer", None) or open_writer(self.settings.get("NIANBAO_DATA"), wait=False)
        self._starting = writer, writer.submit(_start_run, *run_arguments(self.settings, getattr(spider, "sites", [])))

    def open(self) -> None:
        """Open the archive and start the run, or join the run another process started (``joined_run``, an
        attribute of the spider: ``nianbao crawl --processes N``). Idempotent: the first component to need it
        may come first."""
        if self.writer is not None:
            return
        self.joined = getattr(self.crawler.spider, "joined_run", None)
        if self.joined is not None:
            self.writer, self.run_id = self.joined.writer, self.joined.run_id
            self.resume_urls, self._spool_dir = self.joined.resume_urls, self.joined.spool_dir
        else:
            if self._starting is None:
                self._start_writer()
            (writer, started), self._starting = self._starting, None
            # a failure to open the archive (or start the run) is raised here, as the writer answers it
            self.resume_urls, self.run_id, self._spool_dir = started.result()
            self.writer = writer
        self.crawler.stats.set_value("nianbao/run_id", self.run_id)
        self.writer.on_storage_failure = self._writer_storage_failed
        self._start_flusher()

    def _start_flusher(self) -> None:
        from twisted.internet.task import LoopingCall

        # fetch-log rows go over in batches, and a group of writes waiting for more is committed within its
        # time even when the crawl goes quiet
        self._flusher = LoopingCall(self._tick)
        self._flusher.start(min(0.1, self.settings.getfloat("NIANBAO_WRITE_GROUP_SECONDS", 1.0)), now=False)

    def _tick(self) -> None:
        self._hand_over_fetch_rows()
        self.writer.write(Archive.flush_if_due)

    # ------------------------------------------------------------------ what components ask of it

    @property
    def reader(self) -> Archive:
        """The reactor's connection: reads only (validators, archived pages, known columns)."""
        self.open()
        return self._reader

    def write(self, function, *args) -> Future:
        """``function(archive, *args)`` in the writer, after everything handed over before it."""
        self.open()
        self._hand_over_fetch_rows()  # rows logged before this write are written before it
        return self.writer.write(function, *args)

    async def store(self, function, *args):
        """``function(archive, *args)`` in the writer, awaited: the reactor goes on meanwhile."""
        self.open()
        self._hand_over_fetch_rows()
        return await self.writer.wait(function, *args)

    def count(self, site_id: str | None, name: str, value: int = 1) -> None:
        count(self.crawler.stats, site_id, name, value)

    def log_fetch(self, site_id: str | None, url: str, outcome: str, *, status: int | None = None,
                  bytes: int = 0, reason: str | None = None, referer: str | None = None, **validators) -> None:
        """One row of the fetch log: every request, and every link or bound the crawl met. Kept here and
        handed to the writer in batches."""
        self.open()
        self._fetch_rows.append({"run_id": self.run_id, "site_id": site_id, "url": url[:4096], "referer": referer,
                                 "status": status, "bytes": bytes, "outcome": outcome, "reason": reason,
                                 "fetched_at": now(), **validators})
        if len(self._fetch_rows) >= FETCH_ROWS_PER_HANDOVER:
            self._hand_over_fetch_rows()

    def _hand_over_fetch_rows(self) -> None:
        if self._fetch_rows:
            rows, self._fetch_rows = self._fetch_rows, []
            self.writer.write(_log_fetches, rows)

    def spool_dir(self):
        """Where this run's downloads stream to before the writer moves them into the blob store."""
        self.open()
        return self._spool_dir

    def item_scraped(self, item, response=None, spider=None):
        if isinstance(item, dict) and "new" in item and item.get("site_id") and item.get("role") != "list":
            self.count(item["site_id"], "new_versions" if item["new"] else "unchanged")

    # ------------------------------------------------------------------ closing

    async def spider_closed(self, spider=None, reason=None) -> None:
        if self.writer is None:
            return
        try:
            if not self.crawler.stats.get_value("nianbao/storage_failed"):
                return await self._close(spider or self.crawler.spider)
        except StorageFailed as exc:  # met by the last writes themselves
            self.storage_failed(exc)
        # the writer wrote nothing after the failure and marked the run failed (crawler/writer.py)
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        self.writer.close()

    def _writer_storage_failed(self, error: StorageFailed) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self.storage_failed, error)  # said from the writer client's thread

    def storage_failed(self, error: StorageFailed) -> None:
        """The archive's storage failed (disk full …), in the writer or as a body was spooled: the crawl stops
        now, once; what it would still fetch could not be kept. The writer ends the run, marked failed (a call
        it refuses when it met the failure itself). The command says it in one line (``nianbao/storage_failed``)."""
        if self.crawler.stats.get_value("nianbao/storage_failed"):
            return
        self.crawler.stats.set_value("nianbao/storage_failed", str(error))
        self.writer.write(fail_storage, str(error))
        logger.error("the archive's storage failed: %s; the crawl stops and the run is marked failed", error,
                     extra={"console": False})  # the command's own line says it on the console
        if self.crawler.crawling and self.crawler.engine is not None and self.crawler.engine.spider is not None:
            asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="storage_failed"))

    async def _close(self, spider) -> None:
        """End the run; a Scrapyd shard run with NIANBAO_EXTRACT_IN_CRAWL first extracts what it fetched, in
        NIANBAO_EXTRACT_WORKERS limited workers driven from a thread (never the reactor), so a shard arrives at merge
        already read."""
        for hook in ("check_coverage", "finish_discovery"):  # their rows and stats belong to this run
            if hasattr(spider, hook):
                getattr(spider, hook)()
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        stopped = not self.crawler.crawling  # a crawl stopped by SIGINT (Crawler.stop) extracts nothing more
        if stopped:  # said before the last awaits: a second Ctrl-C may end the reactor during them
            self.crawler.stats.set_value("nianbao/stopped", 1)
        await self.store(Archive.flush_writes)  # extraction reads the versions through another connection
        if self.joined is not None:  # the process that started the run ends it, with every part's stats
            self.writer.close()
            return
        if shared.value("NIANBAO_EXTRACT_IN_CRAWL", self.settings) and not stopped:
            try:
                extracted = await asyncio.to_thread(_extract_shard, self._reader.dir,
                                                    shared.extract_workers(self.settings))
                self.crawler.stats.set_value("nianbao/extracted", extracted.ok)
                self.crawler.stats.set_value("nianbao/extraction_failed", extracted.failed)
            except Exception as exc:  # the run is still finished and its fetches kept
                logger.error("extraction failed: %s", exc)
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
        ended = await self.store(end_run, self.run_id, "stopped" if stopped else "finished", stats,
                                 [site.id for site in getattr(spider, "sites", [])])
        for name, value in ended.items():
            self.crawler.stats.set_value(name, value)
        self.writer.close()

    def engine_stopped(self) -> None:
        if self._reader is not None:
            self._reader.db.conn.close()
            self._reader = None


@dataclass
class JoinedRun:
    """A run another process started and finishes (``nianbao crawl --processes N``'s parent), which one crawl
    process joins: it writes through that run's writer process and hands its stats back."""

    run_id: int
    resume_urls: set[str]
    spool_dir: Path
    writer: WriterClient


def run_arguments(settings, sites) -> tuple:
    """``_start_run``'s arguments, from a crawl's settings and registry entries."""
    return (settings.get("NIANBAO_COMMAND", "crawl"), [site.id for site in sites],
            settings.getint("NIANBAO_WRITE_GROUP", 64), settings.getfloat("NIANBAO_WRITE_GROUP_SECONDS", 1.0),
            [site.as_dict() for site in sites])


def _extract_shard(data_dir, workers: int):
    from archive.extraction import extract_pending

    archive = Archive(data_dir)  # this thread's own connection; the run's writer lock is held by this process
    try:
        return extract_pending(archive, workers=workers)
    finally:
        archive.db.conn.close()
