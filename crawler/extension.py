"""The crawl's archive, as a Scrapy extension: one connection, the run record, the crawl's counters.

``ArchiveExtension`` opens the archive when the spider opens (``spider_opened``): it marks a
killed run interrupted, starts this run's record and WARC file, remembers what a killed run
already archived (the resume set), records the registry entries and starts the timer that
commits a group of writes when the crawl goes quiet. When the spider closes (``spider_closed``)
it checks column coverage, commits the last group, optionally extracts a shard, and finishes the
run with the crawl's stats.

Every other component reaches it with ``ArchiveExtension.of(crawler)``: the download handler
for the spool directory, the middlewares for validators, the resume set and the fetch log, the
item pipeline to store payloads, the spider to read archived pages. Counters go through
``count`` only (the function below, or the extension's method), so each one is a key of Scrapy's stats collector and nowhere else
(``nianbao/NAME`` and ``nianbao/site/SITE/NAME``).

Without a data directory (``NIANBAO_DATA`` empty) the extension is not configured and the
components that need it step aside: a crawl then archives nothing.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive.store import Archive

logger = logging.getLogger(__name__)


class ArchiveExtension:
    def __init__(self, crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.resume_urls: set[str] = set()
        self._flusher = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("NIANBAO_DATA"):
            raise NotConfigured("NIANBAO_DATA is empty: a crawl without an archive directory archives nothing")
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        return extension

    @staticmethod
    def of(crawler) -> ArchiveExtension | None:
        """The crawl's extension, or None when it is not configured."""
        return crawler.get_extension(ArchiveExtension)

    # ------------------------------------------------------------------ signals

    def spider_opened(self, spider=None):
        self.open()

    def open(self) -> Archive:
        """Open the archive and start the run (idempotent: the first component to need it may come first)."""
        if self.archive is not None:
            return self.archive
        archive = Archive(self.settings.get("NIANBAO_DATA"))
        self.resume_urls = archive.fetched_by_interrupted_run()
        self.run_id = archive.start_run(self.settings.get("NIANBAO_COMMAND", "crawl"),
                                        self.settings.getlist("NIANBAO_SITE_IDS"))
        archive.open_warc(self.run_id)
        group = self.settings.getint("NIANBAO_WRITE_GROUP", 64)
        if group > 1:  # 1 or 0: every write synced and committed alone (the old way; the benchmark's baseline)
            archive.group_writes(group, self.settings.getfloat("NIANBAO_WRITE_GROUP_SECONDS", 1.0))
        self.archive = archive
        self.crawler.stats.set_value("nianbao/run_id", self.run_id)
        for site in getattr(self.crawler.spider, "sites", []):
            archive.ensure_site(site.as_dict())
        self._start_flusher()
        return archive

    def _start_flusher(self) -> None:
        from twisted.internet.task import LoopingCall

        # a group of writes waiting for more is committed within its time even when the crawl goes quiet
        self._flusher = LoopingCall(self.archive.flush_if_due)
        self._flusher.start(min(0.1, self.settings.getfloat("NIANBAO_WRITE_GROUP_SECONDS", 1.0)), now=False)

    def item_scraped(self, item, response=None, spider=None):
        if isinstance(item, dict) and "new" in item and item.get("site_id"):
            self.count(item["site_id"], "new_versions" if item["new"] else "unchanged")

    def spider_closed(self, spider=None, reason=None):
        """End the run; a Scrapyd shard run with NIANBAO_EXTRACT_WORKERS=N first extracts what it fetched, in N
        limited workers driven from a thread (never the reactor), so a shard arrives at merge already read."""
        if self.archive is None:
            return None
        spider = spider or self.crawler.spider
        for hook in ("check_coverage", "finish_discovery"):  # their rows and stats belong to this run
            if hasattr(spider, hook):
                getattr(spider, hook)()
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        self.archive.flush_writes()  # extraction reads the versions through another connection
        workers = self.settings.getint("NIANBAO_EXTRACT_WORKERS")
        stopped = not self.crawler.crawling  # a crawl stopped by SIGINT (Crawler.stop) extracts nothing more
        if workers <= 0 or stopped:
            self._finish(stopped)
            return None
        from twisted.internet.threads import deferToThread

        done = deferToThread(_extract_shard, self.archive.dir, workers)
        done.addCallback(self._count_extraction)
        done.addErrback(lambda failure: logger.error("extraction failed: %s", failure.value))
        done.addBoth(lambda _: self._finish(stopped))
        return done

    def _count_extraction(self, stats) -> None:
        self.crawler.stats.set_value("nianbao/extracted", stats.ok)
        self.crawler.stats.set_value("nianbao/extraction_failed", stats.failed)

    def _finish(self, stopped: bool) -> None:
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
        self.archive.finish_run(self.run_id, "stopped" if stopped else "finished", stats)

    # ------------------------------------------------------------------ what components ask of it

    def count(self, site_id: str | None, name: str, value: int = 1) -> None:
        count(self.crawler.stats, site_id, name, value)

    def log_fetch(self, site_id: str | None, url: str, outcome: str, *, status: int | None = None,
                  bytes: int = 0, reason: str | None = None, referer: str | None = None, **validators) -> None:
        """One row of the fetch log: every request, and every link or bound the crawl met."""
        self.open().log_fetch(run_id=self.run_id, site_id=site_id, url=url[:4096], referer=referer, status=status,
                              bytes=bytes, outcome=outcome, reason=reason, **validators)

    def spool_dir(self):
        return self.open().spool_dir()


def count(stats, site_id: str | None, name: str, value: int = 1) -> None:
    """The one counter of the crawl, kept in Scrapy's stats collector: run-wide and per registry site."""
    stats.inc_value(f"nianbao/{name}", value)
    if site_id:
        stats.inc_value(f"nianbao/site/{site_id}/{name}", value)


def _extract_shard(data_dir, workers: int):
    from archive.extraction import extract_pending

    archive = Archive(data_dir)  # this thread's own connection; the run's writer lock is held by this process
    try:
        return extract_pending(archive, workers=workers)
    finally:
        archive.db.conn.close()
