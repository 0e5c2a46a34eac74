"""Priority 100: keep every fetched document's bytes and its version in the archive."""

from __future__ import annotations

import hashlib
import logging

from scrapy.exceptions import DropItem, NotConfigured

from archive.blobs import SpooledPayload
from archive.store import ArchiveWriteError, StorageFailed
from archive.warc import Exchange

from ..extension import ArchiveExtension

logger = logging.getLogger(__name__)


class ArchivePayloadPipeline:
    """Stores each document item through the crawl's archive (crawler/extension.py) and returns what became
    of it: ``{"url", "role", "site_id", "new"}``, which the extension counts when the item is scraped."""

    def __init__(self, archive: ArchiveExtension):
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler):
        archive = ArchiveExtension.of(crawler)
        if archive is None:
            raise NotConfigured("no archive (NIANBAO_DATA) to store payloads in")
        return cls(archive)

    async def process_item(self, item, spider=None):
        """Stored by the archive's writer process (crawler/extension.py); the reactor goes on meanwhile."""
        site_id = item["site"]["id"]
        stored = {"url": item["url"], "role": item["role"], "site_id": site_id}
        try:
            is_new = await self.archive.store(_keep, item)
        except StorageFailed as exc:  # the crawl stops and the command says why, once (crawler/extension.py)
            raise DropItem(str(exc), log_level="DEBUG") from exc
        except ArchiveWriteError as exc:
            self.archive.count(site_id, "failed")
            # the row goes to the writer like any other; if the database itself is what failed, the log has it
            logger.error("%s", exc)
            self.archive.log_fetch(site_id, item["url"], "store_failed", reason=str(exc))
            raise DropItem(str(exc)) from exc
        return {**stored, "new": is_new}


def _page_sha256(item) -> str | None:
    """The article page's content, which makes its claim: a page found again at another address is the same claim."""
    if item["role"] != "page":
        return None
    if item.get("spooled"):
        return item["spooled"]["sha256"]
    return hashlib.sha256(item["body"]).hexdigest() if item.get("body") is not None else None


def _keep(archive, item) -> bool:
    """In the writer process: the item's report, then its payload (or a 304's sighting); whether it is new."""
    report = item["report"]
    # a document already archived stays with its report, whatever this fetch's title says
    # the article page claims the identity (an attachment's page is its referer): two articles claiming one
    # (agency, year) stay two reports
    page_url = item["url"] if item["role"] == "page" else item.get("referer")
    report_id = (archive.report_of_url(item["url"])
                 or (page_url != item["url"] and page_url and archive.report_of_url(page_url))
                 or archive.ensure_report(report["agency"], report["year"], report["title"], item["site"],
                                          page_url=page_url, sha256=_page_sha256(item)))
    if item.get("unchanged"):
        archive.touch_unchanged(item["url"], Exchange.from_dict(item.get("http")))
        return False
    _, is_new = archive.store_payload(
        report_id=report_id,
        url=item["url"],
        role=item["role"],
        data=SpooledPayload(**item["spooled"]) if item.get("spooled") else item["body"],
        media_type=item.get("media_type"),
        fmt=item.get("format"),
        title=report["title"],
        referer=item.get("referer"),
        metadata={**item.get("metadata", {}), "published": item.get("published")},
        etag=item.get("etag"),
        last_modified=item.get("last_modified"),
        exchange=Exchange.from_dict(item.get("http")),
    )
    return is_new
