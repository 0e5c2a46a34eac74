"""Priority 100: keep every fetched document's bytes and its version in the archive."""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem, NotConfigured

from archive.store import ArchiveWriteError, StorageFailed

from ..extension import ArchiveExtension
from ..run_writes import _keep

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
