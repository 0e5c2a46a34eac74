"""The column spider: follows every 年报 column of the registry, whatever its CMS.

List pages are read by the site's CMS family (from the registry's ``cms`` hint or detected from
the first page); the next list page is asked for the way the platform asks (GET, or a POST of the
form fields the page declares), one page at a time, within the column's bounds. Items whose
titles are reports are followed to their article pages, and every attachment that can carry the
report is fetched with the article as Referer; what a file is, the server says (Content-Disposition,
Content-Type, the bytes). Links no crawler can follow are logged and skipped; the page goes on.

A list page asked by GET is kept in the archive as sent (archive/list_pages.py) and asked for conditionally the
next night; a 304 is read from that copy as a changed page is read as sent. A column's pages are asked in full on
its night of the rotation, and a 304 whose copy the archive lost is asked again in full.

A column that declares its size (totalRecord, 共N条, 共N页 …) is checked against what was read:
a shortfall is a warning in the fetch log and the crawl summary (crawler/coverage.py).

An item whose report the archive already holds, from a complete earlier visit and under the same list title, is
not asked for again except on its night of the rotation (NIANBAO_RECHECK_DAYS, ``recheck_tonight``): it is counted
``known`` (and among the site's ``reports_found``, so a site whose reports are all known has not gone quiet).
"""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import scrapy
from scrapy.http import HtmlResponse, TextResponse
from scrapy.responsetypes import responsetypes

from .. import sites as registry
from ..cms import FAMILIES, family_for, unfetchable
from ..cms.base import link_texts
from ..cms.generic import Generic, unread_pager
from ..coverage import Column, check_coverage
from ..downloads import SPOOLED, STREAM_TO_DISK, drop_spooled
from ..extension import ArchiveExtension, count
from ..files import identify
from ..recognition import index_owner, recognise, resolve_agency, skip_reason, title_verdict, truncated
from ..resolver import allow_entries
from .discovery import DiscoveryMixin


class ColumnSpider(DiscoveryMixin, scrapy.Spider):
    name = "columns"

    def __init__(self, sites_files: str = "", portal: str | None = None, shard: str | None = None,
                 portals: str | None = None, region: str | None = None, sites: list | None = None,
                 allow_any_host: str = "", *args, **kwargs):
        """``sites``: the registry entries, already loaded (``nianbao crawl``); otherwise the spider loads them
        from its arguments (a Scrapyd shard run, ``scrapy crawl columns -a sites_files=…``; ``-a allow_any_host=1``
        is ``--allow-any-host``)."""
        super().__init__(*args, **kwargs)
        self.sites = sites if sites is not None else registry.select(
            [p for p in sites_files.split(",") if p], portals=portals, portal=portal, region=region, shard=shard,
            allow_any_host=allow_any_host not in ("", "0", "false", "False"))
        self._site_by_id = {site.id: site for site in self.sites}
        allow_entries(self.sites)  # the addresses the registry's own hosts are may be private (crawler/resolver.py)
        self.allowed_domains = sorted({host for site in self.sites for host in (*site.hosts, *site.allowed_hosts)})
        self.columns: dict[str, Column] = {}
        self._index_owners: dict[str, str] = {}  # 索引号 owner: the agency archived under it

    async def start(self):
        registry_urls = {url for site in self.sites for url in site.start_urls}
        for site in self.sites:
            for url in site.start_urls:
                self.columns[url] = Column(site.id, url)
                yield scrapy.Request(url, callback=self.parse_list, errback=self.failed,
                                     meta=self._page_meta(site=site.as_dict(), column=url, **self._list_meta(url)))
            if site.portal:  # its other columns are found from the portal's root
                for request in self.discovery_start(site, registry_urls):
                    yield request

    def crawl_column(self, response, column_site: dict):
        """A column discovery found is read here, from the very response that proved it a column."""
        response.meta.update(site=column_site, column=column_site["column"])
        return self.parse_list(response)

    def _list_meta(self, column_url: str) -> dict:
        """A column's list pages are asked conditionally (a 304 is read from the archive), except on the column's
        night of the rotation (NIANBAO_RECHECK_DAYS): a server whose 304s are wrong (a page built per request behind
        a fixed Last-Modified) cannot hide a column's new reports for longer than that."""
        every, day = self._recheck
        return {} if self.archive is None or recheck_tonight(column_url, day, every) else {"conditional_list": True}

    def _page_meta(self, **meta) -> dict:
        """Pages are parsed, so they are held in memory: under a limit of their own."""
        return {**meta, "download_maxsize": self.crawler.settings.getint("NIANBAO_PAGE_MAXSIZE")}

    def _file_meta(self, **meta) -> dict:
        """Report files go to disk as they arrive (crawler/downloads.py), under DOWNLOAD_MAXSIZE."""
        return {**meta, STREAM_TO_DISK: self.crawler.settings.getbool("NIANBAO_STREAM_DOCUMENTS")}

    @property
    def archive(self) -> ArchiveExtension | None:
        """The crawl's archive extension (None in a crawl without an archive)."""
        if not hasattr(self, "_archive_extension"):
            self._archive_extension = ArchiveExtension.of(self.crawler)
        return self._archive_extension

    def _stat(self, site: dict, name: str, value: int = 1) -> None:
        count(self.crawler.stats, site["id"], name, value)

    def _log(self, site: dict, url: str, outcome: str, reason: str, referer: str | None = None) -> None:
        if self.archive is not None:
            self.archive.log_fetch(site["id"], url, outcome, reason=reason, referer=referer)

    def _skip_link(self, site: dict, url: str, reason: str, page: str) -> None:
        """A link no crawler can follow (javascript:, tel:, mailto:, malformed, too long): logged, skipped."""
        self._stat(site, "skipped_links")
        self._log(site, url, "skipped_link", reason, referer=page)

    # ------------------------------------------------------------------ list pages

    def parse_list(self, response):
        site = response.meta["site"]
        column = self.columns.setdefault(response.meta.get("column", response.url), Column(site["id"], response.url))
        stop = column.left_the_column(response)
        if stop:
            self._log(site, response.url, "column_end", stop, referer=column.url)
            return
        kept = self._list_page(response, site)
        if response.status == 304:
            page = self._archived_list(response)
            if page is None:  # the archive lost the page it named: asked again in full
                yield self._asked_in_full(response.request)
                return
            response = page
        if kept:
            yield kept
        try:
            family, declared, items, following_pages = read_list_page(site, response)
        except Exception as exc:  # a hostile page script (a 5,000-deep _CONFIG, a datastore of junk) ends its column
            self._column_failed(site, column, response, exc)
            return
        column.read_page(declared)
        settings = self.crawler.settings
        for item in items:
            reason = unfetchable(item.url)
            if reason:
                self._skip_link(site, item.url, reason, response.url)
                continue
            if not column.new_item(item.url):
                continue  # listed again on a later page
            if column.items_read > settings.getint("NIANBAO_MAX_ITEMS_PER_COLUMN"):
                self._bounded(site, column, "items per column", "NIANBAO_MAX_ITEMS_PER_COLUMN")
                return
            yield from self._item(response, site, item, column.url)
        if column.pages_read == 1 and not following_pages:
            column.pager_not_followed(unread_pager(response))
        for following in following_pages:
            if column.pages_read >= settings.getint("NIANBAO_MAX_LIST_PAGES_PER_COLUMN"):
                self._bounded(site, column, "list pages per column", "NIANBAO_MAX_LIST_PAGES_PER_COLUMN")
                return
            meta = self._page_meta(site=site, column=column.url, cms=family.name, cms_state=following.state,
                                   **(self._list_meta(column.url) if following.formdata is None else {}))
            if following.formdata is not None:
                yield scrapy.FormRequest(following.url, formdata=following.formdata, callback=self.parse_list,
                                         errback=self.failed, meta=meta, headers={"Referer": column.url},
                                         dont_filter=True)
            else:
                yield scrapy.Request(following.url, callback=self.parse_list, errback=self.failed, meta=meta)

    def _list_page(self, response, site) -> dict | None:
        """The list page for the archive (crawler/run_writes.py): its bytes when answered in full, its sighting when
        answered 304. Pages asked by POST are not kept: they cannot be asked for conditionally."""
        request = response.request
        if self.archive is None or request is None or request.method != "GET" or response.status not in (200, 304):
            return None
        item = {"site": site, "url": response.url, "role": "list", "http": exchange(response)}
        if response.status == 304:
            return {**item, "unchanged": True}
        return {**item, "body": response.body, "media_type": _media_type(response),
                "charset": getattr(response, "encoding", None), "etag": _header(response, "ETag"),
                "last_modified": _header(response, "Last-Modified")}

    def _archived_list(self, response):
        """The kept copy of a list page the server says has not changed, decoded as it was read."""
        kept = self.archive.reader.list_page_body(response.url) if self.archive is not None else None
        if kept is None:
            return None
        body, row = kept
        content_type = (row["media_type"] or "text/html") + (f"; charset={row['charset']}" if row["charset"] else "")
        headers = {"Content-Type": content_type}
        kind = responsetypes.from_args(headers=headers, url=response.url, body=body)
        kind = kind if issubclass(kind, TextResponse) else HtmlResponse
        return kind(url=response.url, body=body, headers=headers, request=response.request, encoding=row["charset"])

    def _asked_in_full(self, request):
        self.logger.warning("%s answered 304 but the archive holds no copy of it: asked again in full", request.url)
        validators = (b"if-none-match", b"if-modified-since")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in validators}
        meta = {k: v for k, v in request.meta.items() if k not in ("conditional_list", "conditional_sent")}
        meta["handle_httpstatus_list"] = [s for s in meta.get("handle_httpstatus_list", []) if s != 304]
        return request.replace(headers=headers, meta=meta, dont_filter=True)

    def _item(self, response, site, item, column_url: str):
        reason = skip_reason(item.title)
        if reason:
            self._stat(site, "skipped")
            self.logger.debug("skipped %r: %s", item.title, reason)
            return
        found = recognise(item.title)
        report = {"agency": found.agency, "year": found.year, "title": item.title, "listed": item.date}
        self._stat(site, "listed_reports")
        if self._known(item.url, item.title):
            self._stat(site, "reports_found")  # the site still lists it: it has not gone quiet
            self._stat(site, "known")
            self.count_column_report(column_url)
            return
        yield scrapy.Request(item.url, callback=self.parse_article, errback=self.failed,
                             headers={"Referer": response.url},
                             meta=self._page_meta(site=site, report=report, conditional=True, column=column_url))

    def _known(self, url: str, title: str) -> bool:
        """Not asked for tonight: the archive answered this page in a run that finished, nothing of that visit (the
        page, a file it links) failed since, the list shows the title the archive holds for it (read the way
        ``_identity`` reads it), and it is not the page's night of the rotation. One indexed read per item that is
        not due, nothing held per URL (a page the killed run archived is asked, to be answered from the archive)."""
        every = self._recheck[0]
        if every <= 1 or self.archive is None or recheck_tonight(url, self._recheck[1], every):
            return False
        archive = self.archive.reader
        if url in self.archive.resume_urls:
            return False
        visit = archive.last_visit(url)
        if visit is None or visit["retry"] or not self._run_complete(visit["run_id"]):
            return False
        return visit["title"] is None or visit["title"] == self._own_title(title, visit["metadata"] or {})

    @property
    def _recheck(self) -> tuple[int, date]:
        """(NIANBAO_RECHECK_DAYS, the day of the rotation), read once: a run that crosses midnight keeps its day."""
        if not hasattr(self, "_recheck_setting"):
            settings = self.crawler.settings
            day = settings.get("NIANBAO_RECHECK_DATE") or ""
            self._recheck_setting = (settings.getint("NIANBAO_RECHECK_DAYS", 30),
                                     date.fromisoformat(day) if day else datetime.now(UTC).date())
        return self._recheck_setting

    def _run_complete(self, run_id: int) -> bool:
        complete = self.__dict__.setdefault("_complete_runs", {})  # a few runs, whatever the archive's size
        if run_id not in complete:
            complete[run_id] = self.archive.reader.run_complete(run_id)
        return complete[run_id]

    def _column_failed(self, site: dict, column: Column, response, exc: Exception) -> None:
        """A list page the column's CMS family could not read: a column failure, named in the summary."""
        column.failed = f"its list page {response.url} could not be read: {type(exc).__name__}: {str(exc)[:200]}"
        self.logger.warning("%s: column %s failed: %s", site["id"], column.url, column.failed)
        self._log(site, response.url, "column_failed", column.failed, referer=column.url)

    def _bounded(self, site: dict, column: Column, what: str, setting: str) -> None:
        limit = self.crawler.settings.getint(setting)
        column.bounded = f"stopped at the bound of {limit} {what} ({setting})"
        self.crawler.stats.set_value(f"nianbao/bound/{setting}", limit)
        self._stat(site, "bounded")
        self._log(site, column.url, "bounded", column.bounded)

    def check_coverage(self) -> list[str]:
        """Declared size against what was read, per column; called before the run is closed."""
        warnings = check_coverage(self.columns.values(), self._site_dicts(), self.crawler.stats,
                                  lambda site, url, reason: self._log(site, url, "coverage_short", reason))
        self.crawler.stats.set_value("nianbao/warnings", "\n".join(warnings))
        return warnings

    def _site_dicts(self) -> dict:
        return {site.id: site.as_dict() for site in self.sites}

    # ------------------------------------------------------------------ articles and their files

    def parse_article(self, response):
        site, report = response.meta["site"], dict(response.meta["report"])
        self._stat(site, "reports_found")
        self.count_column_report(response.meta.get("column"))
        unchanged = response.status == 304
        page = self._archived(response) if unchanged else response
        family = family_for(site.get("cms") if site.get("cms") in FAMILIES else None, page) if page else None
        metadata = family.metadata(page) if page else {}
        own = metadata.get("ArticleTitle") or metadata.get("标题")
        if page is not None and (skip_reason(own or report["title"]) if truncated(report["title"]) else
                                 own and title_verdict(own).kind not in ("report", "other")):
            # the article's own title is not a report's (a list title cut short), or names a look-alike (图解, 解读 …)
            # on the article only; an own title that names nothing (a site's name) leaves the list title to decide
            self._stat(site, "skipped")
            return
        owner = index_owner(metadata)
        indexed = self._agency_of_index_owner(owner) if owner and self.archive else None
        report.update(self._identity(report, metadata, site, indexed))
        if report["year"] is None:
            self._stat(site, "skipped")  # a title cut short whose article names no year either
            return
        if unchanged:
            yield self._unchanged(response, site, report, "page")
            if page is None:
                return
        published = family.published(metadata, page) or report.get("listed")
        if not unchanged:
            yield self._document(response, site, report, "page", {**metadata, **_charset(response)}, published)
        texts = link_texts(page)
        for url in family.attachments(page):
            reason = unfetchable(url)
            if reason:
                self._skip_link(site, url, reason, response.url)
                continue
            yield scrapy.Request(
                url,
                callback=self.parse_attachment,
                errback=self.failed,
                # a compressed answer would have to be held in memory to be decompressed
                headers={"Referer": response.url, "Accept-Encoding": "identity"},
                meta=self._file_meta(site=site, report=report, published=published, conditional=True,
                                     link_text=texts.get(url)),
            )

    def _agency_of_index_owner(self, owner: str) -> str | None:
        """The archive's answer, kept once found: the first document archived under an owner stays the first
        (later ones come after it), so a found agency never changes during a crawl; one not yet found may be."""
        known = self._index_owners
        if owner not in known:
            agency = self.archive.reader.agency_of_index_owner(owner)
            if agency is None:
                return None
            known[owner] = agency
        return known[owner]

    @staticmethod
    def _identity(report: dict, metadata: dict, site: dict, indexed: str | None = None) -> dict:
        """Title and agency from everything the article says, never None: a list title cut short
        (…年度报…) gives way to the article's own; a title without the agency to its metadata or the
        registry entry. A page and its attachments carry this one identity, so they are one report."""
        title = ColumnSpider._own_title(report["title"], metadata)
        return {"title": title, "agency": resolve_agency(title, metadata, site, indexed_agency=indexed),
                "year": report.get("year") or (recognise(title).year if recognise(title) else None)}

    @staticmethod
    def _own_title(title: str, metadata: dict) -> str:
        """The report's title from its list title and its article's metadata (the article's own title, when the
        list's is cut short or names no agency)."""
        full = metadata.get("ArticleTitle") or metadata.get("标题")
        if full and not skip_reason(full) and (truncated(title) or not recognise(title).agency):
            return full
        return title

    def parse_attachment(self, response):
        meta = response.meta
        if response.status == 304:
            yield self._unchanged(response, meta["site"], meta["report"], "attachment")
            return
        found = identify(response)
        if found.format is None:
            # a download servlet that answered with a page (an error, a login, a viewer): not a report file
            self._stat(meta["site"], "not_a_file")
            self._log(meta["site"], response.url, "not_a_file", found.reason or "not a document file",
                      referer=(response.request.headers.get("Referer") or b"").decode("latin-1") or None)
            drop_spooled(response.request)
            return
        named = {"filename": found.filename, "link_text": meta.get("link_text")}  # the site offers the file by them
        item = self._document(response, meta["site"], meta["report"], "attachment",
                              {k: v for k, v in named.items() if v}, meta.get("published"))
        item["format"], item["media_type"] = found.format, found.media_type or item["media_type"]
        yield item

    def failed(self, failure):
        """Errors are logged by the fetch-log middleware; this only keeps them from being noisy."""
        self.logger.debug("request failed: %s", failure.value)

    def _archived(self, response):
        """The archived copy of a page the server says has not changed (its charset kept)."""
        if self.archive is None:
            return None
        archive = self.archive.reader
        body = archive.latest_body(response.url)
        if body is None:
            return None
        charset = (archive.document_metadata(response.url) or {}).get("charset")
        return HtmlResponse(url=response.url, body=body, request=response.request, encoding=charset)

    @staticmethod
    def _unchanged(response, site, report, role) -> dict:
        resumed = "resumed" in response.flags  # answered from the archive: no exchange to record
        return {"site": site, "report": report, "url": response.url, "role": role, "unchanged": True,
                "http": None if resumed else exchange(response)}

    @staticmethod
    def _document(response, site, report, role, metadata, published) -> dict:
        media_type = _media_type(response)
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
            "etag": _header(response, "ETag"),
            "last_modified": _header(response, "Last-Modified"),
            "http": exchange(response),
        }


def recheck_tonight(url: str, day: date, every_days: int) -> bool:
    """Whether a known report is re-checked on ``day``: once every ``every_days`` days, on the day its URL hashes to
    (a stable hash, the same in every process and every year), so each night takes its share."""
    return every_days <= 1 or zlib.crc32(url.encode("utf-8")) % every_days == day.toordinal() % every_days


def _next_pages(family, response) -> list:
    """The family's own next page(s), then the generic next-link reading (下一页, numbered links): a
    family's pager never stops the generic one from also applying. Same URL once."""
    nexts = list(family.next_pages(response))
    if family.name != "generic" and isinstance(response, HtmlResponse):
        known = {n.url for n in nexts}
        nexts += [n for n in Generic().next_pages(response) if n.url not in known]
    return nexts


def read_list_page(site: dict, response) -> tuple:
    """Everything a list page says, read at once by its CMS family, so that a script the family cannot read
    fails here, before any of the page is used: (family, declared size, items, next pages)."""
    family = FAMILIES[response.meta["cms"]]() if response.meta.get("cms") else family_for(site.get("cms"), response)
    return family, family.declared(response), list(family.list_items(response)), _next_pages(family, response)


def _header(response, name: str) -> str | None:
    return (response.headers.get(name) or b"").decode("latin-1") or None


def _media_type(response) -> str | None:
    return (_header(response, "Content-Type") or "").split(";")[0].strip() or None


def _charset(response) -> dict:
    """The encoding the page was read in (HTTP charset first, then BOM and <meta>, as w3lib decides),
    so that re-reading the archived bytes decodes them the same way."""
    encoding = getattr(response, "encoding", None)
    return {"charset": encoding} if encoding else {}


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
    import mimetypes

    if media_type in _FORMATS:
        return _FORMATS[media_type]
    guessed = mimetypes.guess_type(urlsplit(url).path)[0]
    return _FORMATS.get(guessed or "", None)
