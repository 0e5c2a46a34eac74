"""Priority 100: keep every fetched document's bytes and its version in the archive."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from archive.blobs import SpooledPayload
from archive.store import ArchiveWriteError
from archive.warc import Exchange

from ..context import CrawlerBound, archive_for, run_id_for


class ArchivePayloadPipeline(CrawlerBound):
    def open_spider(self, spider=None):
        archive = archive_for(self.crawler)
        self.crawler.stats.set_value("nianbao/run_id", run_id_for(self.crawler))
        for site in getattr(self.crawler.spider, "sites", []):
            archive.ensure_site(site.as_dict())

    def process_item(self, item, spider=None):
        archive = archive_for(self.crawler)
        report = item["report"]
        # a document already archived stays with its report, whatever this fetch's title says
        report_id = archive.report_of_url(item["url"]) or archive.ensure_report(
            report["agency"], report["year"], report["title"], item["site"])
        if item.get("unchanged"):
            archive.touch_unchanged(item["url"], Exchange.from_dict(item.get("http")))
            self._count(item, "unchanged")
            return {"url": item["url"], "role": item["role"], "new": False}
        try:
            _, is_new = self._store(archive, report_id, item)
        except ArchiveWriteError as exc:
            self._count(item, "failed")
            try:
                archive.log_fetch(run_id=run_id_for(self.crawler), site_id=item["site"]["id"], url=item["url"],
                                  outcome="store_failed", reason=str(exc))
            except Exception:  # the database itself may be what failed; the crawl log still has it
                spider_logger = getattr(self.crawler.spider, "logger", None)
                if spider_logger:
                    spider_logger.error("could not record the failure of %s", item["url"])
            raise DropItem(str(exc)) from exc
        self._count(item, "new_versions" if is_new else "unchanged")
        return {"url": item["url"], "role": item["role"], "new": is_new}

    @staticmethod
    def _store(archive, report_id, item):
        return archive.store_payload(
            report_id=report_id,
            url=item["url"],
            role=item["role"],
            data=SpooledPayload(**item["spooled"]) if item.get("spooled") else item["body"],
            media_type=item.get("media_type"),
            fmt=item.get("format"),
            title=item["report"]["title"],
            referer=item.get("referer"),
            metadata={**item.get("metadata", {}), "published": item.get("published")},
            etag=item.get("etag"),
            last_modified=item.get("last_modified"),
            exchange=Exchange.from_dict(item.get("http")),
        )

    def _count(self, item, name: str) -> None:
        self.crawler.stats.inc_value(f"nianbao/{name}")
        self.crawler.stats.inc_value(f"nianbao/site/{item['site']['id']}/{name}")

    def close_spider(self, spider=None):
        check = getattr(self.crawler.spider, "check_coverage", None)
        if check:
            check()  # coverage warnings go into this run's stats and fetch log before it is closed
        archive = archive_for(self.crawler)
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
        # a crawl stopped by SIGINT (Crawler.stop) is no longer "crawling" when it closes
        archive.finish_run(run_id_for(self.crawler), "finished" if self.crawler.crawling else "stopped", stats)
