"""The archive and run a crawl writes to, shared by its middlewares and pipelines."""

from __future__ import annotations

from archive.store import Archive


def archive_for(crawler) -> Archive:
    if getattr(crawler, "nianbao_archive", None) is None:
        crawler.nianbao_archive = Archive(crawler.settings.get("NIANBAO_DATA"))
        crawler.nianbao_resume_urls = crawler.nianbao_archive.fetched_by_interrupted_run()
        crawler.nianbao_run_id = crawler.nianbao_archive.start_run(
            crawler.settings.get("NIANBAO_COMMAND", "crawl"), crawler.settings.getlist("NIANBAO_SITE_IDS")
        )
        crawler.nianbao_archive.open_warc(crawler.nianbao_run_id)
        group = crawler.settings.getint("NIANBAO_WRITE_GROUP", 64)
        if group > 1:  # 1 or 0: every write synced and committed alone (the old way; the benchmark's baseline)
            crawler.nianbao_archive.group_writes(group, crawler.settings.getfloat("NIANBAO_WRITE_GROUP_SECONDS", 1.0))
    return crawler.nianbao_archive


def resume_urls_for(crawler) -> set[str]:
    archive_for(crawler)
    return crawler.nianbao_resume_urls


def run_id_for(crawler) -> int:
    archive_for(crawler)
    return crawler.nianbao_run_id


class CrawlerBound:
    """A Scrapy component that keeps its crawler (for settings, stats and the archive)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)
