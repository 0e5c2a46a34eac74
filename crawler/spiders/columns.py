"""The column spider: follows every 年报 column of the registry, whatever its CMS.

List pages are read by the site's CMS family (from the registry's ``cms`` hint or
detected from the first page); items whose titles are reports are followed to
their article pages, and every attachment that can carry the report is fetched
with the article as Referer. Everything else is counted as skipped.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from urllib.parse import urlsplit

import scrapy
from scrapy.http import HtmlResponse

from .. import sites as registry
from ..cms import family_for
from ..downloads import SPOOLED, STREAM_TO_DISK
from ..recognition import recognise, skip_reason
from .discovery import DiscoveryMixin


class ColumnSpider(DiscoveryMixin, scrapy.Spider):
    name = "columns"

    def __init__(self, sites_files: str = "", portal: str | None = None, shard: str | None = None,
                 portals: str | None = None, region: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sites = registry.select([p for p in sites_files.split(",") if p], portals=portals, portal=portal,
                                     region=region, shard=shard)
        self._site_by_id = {site.id: site for site in self.sites}
        self.allowed_domains = sorted({host for site in self.sites for host in site.hosts})

    async def start(self):
        registry_urls = {url for site in self.sites for url in site.start_urls}
        for site in self.sites:
            for url in site.start_urls:
                yield scrapy.Request(url, callback=self.parse_list, meta=self._page_meta(site=site.as_dict()))
            if site.portal:  # its other columns are found from the portal's root
                for request in self.discovery_start(site, registry_urls):
                    yield request

    def crawl_column(self, response, column_site: dict):
        """A column discovery found is read here, from the very response that proved it a column."""
        response.meta.update(site=column_site, column=column_site["column"])
        return self.parse_list(response)

    def closed(self, reason):
        self.finish_discovery()

    def _page_meta(self, **meta) -> dict:
        """Pages are parsed, so they are held in memory: under a limit of their own."""
        return {**meta, "download_maxsize": self.crawler.settings.getint("NIANBAO_PAGE_MAXSIZE")}

    def _file_meta(self, **meta) -> dict:
        """Report files go to disk as they arrive (crawler/downloads.py), under DOWNLOAD_MAXSIZE."""
        return {**meta, STREAM_TO_DISK: self.crawler.settings.getbool("NIANBAO_STREAM_DOCUMENTS")}

    def _stat(self, site: dict, name: str) -> None:
        self.crawler.stats.inc_value(f"nianbao/{name}")
        self.crawler.stats.inc_value(f"nianbao/site/{site['id']}/{name}")

    def parse_list(self, response):
        site = response.meta["site"]
        family = family_for(site.get("cms"), response)
        for item in family.list_items(response):
            reason = skip_reason(item.title)
            if reason:
                self._stat(site, "skipped")
                self.logger.debug("skipped %r: %s", item.title, reason)
                continue
            found = recognise(item.title)
            report = {"agency": found.agency, "year": found.year, "title": item.title, "listed": item.date}
            self._stat(site, "listed_reports")
            yield response.follow(
                item.url, callback=self.parse_article,
                meta=self._page_meta(site=site, report=report, conditional=True, column=response.meta.get("column")),
            )
        for url in family.next_pages(response):
            yield response.follow(url, callback=self.parse_list,
                                  meta=self._page_meta(site=site, column=response.meta.get("column")))

    def parse_article(self, response):
        site, report = response.meta["site"], response.meta["report"]
        self._stat(site, "reports_found")
        self.count_column_report(response)
        unchanged = response.status == 304
        if unchanged:
            yield self._unchanged(response, site, report, "page")
            response = self._archived(response)  # its attachments still need their own check
            if response is None:
                return
        family = family_for(site.get("cms"), response)
        metadata = family.metadata(response)
        published = family.published(metadata, response) or report.get("listed")
        if not unchanged:
            yield self._document(response, site, report, "page", metadata, published)
        for url in family.attachments(response):
            yield scrapy.Request(
                url,
                callback=self.parse_attachment,
                # a compressed answer would have to be held in memory to be decompressed
                headers={"Referer": response.url, "Accept-Encoding": "identity"},
                meta=self._file_meta(site=site, report=report, published=published, conditional=True),
            )

    def parse_attachment(self, response):
        meta = response.meta
        if response.status == 304:
            yield self._unchanged(response, meta["site"], meta["report"], "attachment")
            return
        yield self._document(response, meta["site"], meta["report"], "attachment", {}, meta.get("published"))

    def _archived(self, response):
        """The archived copy of a page the server says has not changed."""
        from archive.store import Archive

        body = Archive(self.crawler.settings.get("NIANBAO_DATA")).latest_body(response.url)
        if body is None:
            return None
        return HtmlResponse(url=response.url, body=body, request=response.request)

    @staticmethod
    def _unchanged(response, site, report, role) -> dict:
        resumed = "resumed" in response.flags  # answered from the archive: no exchange to record
        return {"site": site, "report": report, "url": response.url, "role": role, "unchanged": True,
                "http": None if resumed else exchange(response)}

    @staticmethod
    def _document(response, site, report, role, metadata, published) -> dict:
        media_type = (response.headers.get("Content-Type") or b"").decode("latin-1").split(";")[0] or None
        referer = response.request.headers.get("Referer") if response.request else None
        return {
            "site": site,
            "report": report,
            "url": response.url,
            "role": role,
            "body": response.body,
            "spooled": response.meta.get(SPOOLED),
            "media_type": media_type,
            "format": _format(response.url, media_type),
            "referer": referer.decode("latin-1") if referer else None,
            "metadata": metadata,
            "published": published,
            "etag": (response.headers.get("ETag") or b"").decode("latin-1") or None,
            "last_modified": (response.headers.get("Last-Modified") or b"").decode("latin-1") or None,
            "http": exchange(response),
        }


# Scrapy hands over decoded bodies, so the headers that described the encoding no longer hold.
_DROPPED = {"content-encoding", "transfer-encoding", "content-length"}


def _pairs(headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, values in headers.items() for v in values
            if k.decode("latin-1").lower() not in _DROPPED]


def exchange(response) -> dict:
    """What the WARC records of this fetch need: request and response lines and headers."""
    request = response.request
    headers = _pairs(response.headers)
    if response.status != 304:
        spooled = response.meta.get(SPOOLED) if request else None
        headers.append(("Content-Length", str(spooled["size"] if spooled else len(response.body))))
    return {
        "url": response.url,
        "status": response.status,
        "response_headers": headers,
        "request_headers": _pairs(request.headers) if request else [],
        "method": request.method if request else "GET",
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


_FORMATS = {"application/pdf": "pdf", "application/msword": "doc", "text/html": "html",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx"}


def _format(url: str, media_type: str | None) -> str | None:
    if media_type in _FORMATS:
        return _FORMATS[media_type]
    guessed = mimetypes.guess_type(urlsplit(url).path)[0]
    return _FORMATS.get(guessed or "", None)
