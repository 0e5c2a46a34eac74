"""Downloader middlewares: where the crawler may go, robots.txt, conditional requests, the fetch log."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from urllib.parse import urljoin, urlsplit

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from archive.store import ArchiveWriteError, StorageFailed

from .blocks import Blocked, block_reason
from .downloads import SPOOLED, TooLarge, drop_spooled
from .extension import ArchiveExtension, count
from .hosts import refusal, registrable_domain
from .resolver import refused_name


class ForbiddenByRobots(IgnoreRequest):
    """robots.txt disallows the request: its own type, so the fetch log can say so without reading messages."""


def _header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _size_and_digest(request, response) -> tuple[int, str | None]:
    spooled = request.meta.get(SPOOLED)
    if spooled:
        return spooled["size"], spooled["sha256"]
    body = response.body or b""
    return len(body), hashlib.sha256(body).hexdigest() if body else None


def _site_id(request) -> str | None:
    return (request.meta.get("site") or {}).get("id")


class ArchiveBound:
    """A downloader middleware working with the crawl's archive (crawler/extension.py); ``needs_archive``
    ones are left out of a crawl that has none."""

    needs_archive = True

    def __init__(self, crawler, archive: ArchiveExtension | None):
        self.crawler, self.archive = crawler, archive

    @classmethod
    def from_crawler(cls, crawler):
        archive = ArchiveExtension.of(crawler)
        if archive is None and cls.needs_archive:
            raise NotConfigured(f"{cls.__name__} needs the archive (NIANBAO_DATA)")
        return cls(crawler, archive)

    def record(self, request, outcome: str, **row) -> None:
        """The request's fetch-log row and its counter (what the log marks as met goes uncounted)."""
        if self.archive is None:
            return
        referer = request.headers.get("Referer")
        row.setdefault("bytes", 0)
        self.archive.log_fetch(_site_id(request), request.url, outcome,
                               referer=referer.decode("latin-1") if referer else None, **row)

    def count(self, request, name: str) -> None:
        count(self.crawler.stats, _site_id(request), name)


def with_slot(request):
    """Politeness per portal, the host policy's unit: www., files. and sixty department subdomains of one portal
    share one download slot (one request at a time, DOWNLOAD_DELAY between them)."""
    if "download_slot" not in request.meta:
        request.meta["download_slot"] = registrable_domain(urlsplit(request.url).hostname or "")
    return request


class DownloadSlotMiddleware(BaseSpiderMiddleware):
    """A spider middleware giving each request its download slot when the spider makes it, not when it is
    downloaded: a broad crawl's scheduler queue (DownloaderAwarePriorityQueue) picks the next request by the slot
    it will be downloaded in, and would otherwise see host names (sixty subdomains of one portal as sixty)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        if crawler.settings.getint("CONCURRENT_REQUESTS_PER_IP"):
            raise NotConfigured("download slots by address")

    def get_processed_request(self, request, response):
        return with_slot(request)


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, its refusal raised as ForbiddenByRobots."""

    def process_request_2(self, rp, request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:
            raise ForbiddenByRobots(str(exc)) from exc


class HostGuardMiddleware(ArchiveBound):
    """The host policy of crawler/hosts.py for every request of a registry entry, redirects included
    (they pass through here again); and the run's request bound (NIANBAO_MAX_REQUESTS): once it is
    reached the crawl is closed, gracefully, and the bound recorded."""

    needs_archive = False  # the host policy holds with or without an archive

    def __init__(self, crawler, archive):
        super().__init__(crawler, archive)
        self.requests = 0
        self.limit = crawler.settings.getint("NIANBAO_MAX_REQUESTS")
        # CONCURRENT_REQUESTS_PER_IP: Scrapy keys its download slots by address; else by registrable domain
        self.slot_by_domain = not crawler.settings.getint("CONCURRENT_REQUESTS_PER_IP")

    def refusal(self, request) -> str | None:
        return refusal(request.url, request.meta.get("site"))

    def process_request(self, request, spider=None):
        reason = self.refusal(request)
        if reason:
            self.record(request, "refused", reason=reason)
            self.count(request, "refused")
            raise IgnoreRequest(reason)
        if self.slot_by_domain:
            with_slot(request)  # requests not made by the spider (robots.txt) get theirs here
        if request.meta.get("site") and not request.meta.get("redirect_times"):
            self.requests += 1
            if self.limit and self.requests > self.limit:
                self._bounded(request)
        return None

    def _bounded(self, request) -> None:
        reason = f"requests per run: the limit of {self.limit} (NIANBAO_MAX_REQUESTS) was reached"
        stats = self.crawler.stats
        if not stats.get_value("nianbao/bound/requests_per_run"):
            stats.set_value("nianbao/bound/requests_per_run", self.limit)
            self.record(request, "bounded", reason=reason)
            asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="bound_requests_per_run"))
        raise IgnoreRequest(reason)


class ResumeMiddleware(ArchiveBound):
    """After a run was killed, what it already archived is not fetched again: the request is answered
    from the archive, as a 304 would be, and the spider reads the archived copy."""

    def process_request(self, request, spider=None):
        if request.meta.get("conditional") and request.url in self.archive.resume_urls:
            self.count(request, "resumed")
            # the stand-in must reach the spider as a real 304 would, or the page's links are never followed
            request.meta.setdefault("handle_httpstatus_list", []).append(304)
            return Response(request.url, status=304, request=request, flags=["resumed"])
        return None


class ConditionalRequestMiddleware(ArchiveBound):
    """Ask with ETag / Last-Modified for what the archive already holds (a report's page or file, ``conditional``;
    a column's list page, ``conditional_list``); 304 reaches the spider."""

    def process_request(self, request, spider=None):
        meta = request.meta
        if not (meta.get("conditional") or meta.get("conditional_list")) or meta.get("conditional_sent"):
            return None
        reader = self.archive.reader
        validators = reader.list_page(request.url) if meta.get("conditional_list") else reader.validators(request.url)
        if not validators:
            return None
        if validators.get("etag"):
            request.headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            request.headers["If-Modified-Since"] = validators["last_modified"]
        request.meta["conditional_sent"] = True
        request.meta.setdefault("handle_httpstatus_list", []).append(304)
        return None


class FetchLogMiddleware(ArchiveBound):
    """Record every response and failed request: URL, status, bytes, sha256, validators, outcome.
    Challenges and block statuses are recorded as blocked and go no further."""

    def process_response(self, request, response, spider=None):
        if "resumed" in response.flags:
            return response  # answered from the archive: nothing crossed the network
        refused = _refused_redirect(request, response)
        if refused:
            self.record(request, "refused", status=response.status, reason=refused)
            self.count(request, "refused")
            raise IgnoreRequest(refused)
        too_large = _decompression_bomb(request, response, self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        if too_large:
            self.record(request, "too_large", status=response.status, bytes=len(response.body), reason=too_large)
            self.count(request, "too_large")
            raise IgnoreRequest(too_large)
        size, sha256 = _size_and_digest(request, response)
        blocked = block_reason(response, request)
        if blocked:
            outcome = "blocked"
        elif response.status == 304:
            outcome = "not_modified"
        elif response.status >= 400:
            outcome = "http_error"
        else:
            outcome = "fetched"
        self.record(request, outcome, status=response.status, bytes=size, sha256=sha256,
                    etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"), reason=blocked)
        if outcome in ("blocked", "not_modified", "http_error"):
            self.count(request, outcome)
        if outcome == "http_error":
            self.count(request, f"failed_http_{response.status}")
        if outcome != "fetched" or 300 <= response.status < 400:
            drop_spooled(request)  # error pages, challenges and redirects are never archived
        if blocked:
            raise Blocked(blocked)
        return response

    def process_exception(self, request, exception, spider=None):
        if isinstance(exception, ForbiddenByRobots):
            self.record(request, "robots", reason=str(exception))
            self.count(request, "robots")
            return None
        if isinstance(exception, IgnoreRequest):
            return None  # refused or bounded on the way out: recorded where it was decided
        if isinstance(exception, StorageFailed):  # the crawl stops; the command says why, once
            self.archive.storage_failed(exception)
            return None
        outcome, cause = _classified(exception)
        detail = f" ({_type_name(cause)}: {cause})" if cause is not exception else ""
        reason = f"{_type_name(exception)}: {exception}{detail}"
        refused = refused_name(urlsplit(request.url).hostname) if outcome == "dns_error" else None
        if refused:  # the address check at connect time (crawler/resolver.py), not a name that does not resolve
            outcome, reason = "refused", refused
        self.record(request, outcome, reason=reason)
        if outcome in ("too_large", "refused"):
            self.count(request, outcome)
        else:
            self.count(request, "failed")
            self.count(request, f"failed_{outcome}")  # the summary's failures by kind
        return None


# What failed, by the exception's type, as Scrapy's stats count them (downloader/exception_type_count/…); Scrapy
# 2.19 wraps Twisted's exceptions in its own (CannotResolveHostError from DNSLookupError …), so the whole chain
# (``__cause__``, and the failures a ResponseNeverReceived holds) is read. The first kind found wins.
FAILURE_OUTCOMES = (
    ("refused", ("crawler.resolver.AddressRefused",)),
    ("tls_error", ("OpenSSL.SSL.Error", "twisted.internet._sslverify.VerificationError", "ssl.SSLError")),
    ("dns_error", ("scrapy.exceptions.CannotResolveHostError", "twisted.internet.error.DNSLookupError")),
    ("timeout", ("scrapy.exceptions.DownloadTimeoutError", "twisted.internet.error.TimeoutError",
                 "twisted.internet.error.TCPTimedOutError", "twisted.internet.defer.TimeoutError", "builtins.TimeoutError")),
    ("connection_refused", ("scrapy.exceptions.DownloadConnectionRefusedError",
                            "twisted.internet.error.ConnectionRefusedError")),
    ("connection_lost", ("scrapy.exceptions.DownloadFailedError", "scrapy.exceptions.ResponseDataLossError",
                         "twisted.internet.error.ConnectionLost", "twisted.internet.error.ConnectionDone",
                         "twisted.web._newclient.ResponseFailed", "twisted.web._newclient.ResponseNeverReceived",
                         "twisted.web.client.PartialDownloadError")),
)


def _type_name(exception) -> str:
    kind = type(exception)
    return f"{kind.__module__}.{kind.__qualname__}"


def _chain(exception) -> list:
    """The exception, what it was raised from, and the failures it carries (ResponseNeverReceived.reasons)."""
    seen, todo = [], [exception]
    while todo and len(seen) < 20:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__]
        todo += [getattr(r, "value", r) for r in (getattr(current, "reasons", None) or ()) if r is not None]
    return seen


def failure_outcome(exception) -> str:
    """``fetches.outcome`` of a request that got no answer: refused (an address no entry points at), tls_error,
    dns_error, timeout, connection_refused, connection_lost, too_large, store_failed, else error."""
    return _classified(exception)[0]


def _classified(exception):
    """(outcome, the exception in the chain that decided it)."""
    if isinstance(exception, ArchiveWriteError):
        return "store_failed", exception  # the disk refused the body as it streamed in
    if isinstance(exception, TooLarge):
        return "too_large", exception  # DOWNLOAD_MAXSIZE: cancelled once the size is known to be too large
    chain = _chain(exception)
    for outcome, kinds in FAILURE_OUTCOMES:
        for link in chain:
            if any(f"{k.__module__}.{k.__qualname__}" in kinds for k in type(link).__mro__):
                return outcome, link
    return "error", exception


def _refused_redirect(request, response) -> str | None:
    """A redirect to somewhere no crawl goes (file://, ftp:, another scheme). Scrapy drops such a
    redirect without a word; redirects to other hosts are refused by HostGuard on the way out."""
    location = response.headers.get("Location")
    if not 300 <= response.status < 400 or not location:
        return None
    target = urljoin(request.url, location.decode("latin-1").strip())
    reason = refusal(target, None)
    return f"redirect to {target}: {reason}" if reason else None


def _decompression_bomb(request, response, default_limit: int) -> str | None:
    """A compressed body that inflates past the size limit (a gzip bomb): found by inflating it
    in bounded steps before Scrapy's own decompression would record it as fetched."""
    encodings = [e.strip().lower() for e in b",".join(response.headers.getlist("Content-Encoding")).split(b",")]
    limit = request.meta.get("download_maxsize", default_limit)
    if not limit or not any(e in (b"gzip", b"x-gzip", b"deflate") for e in encodings):
        return None
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    total, data = 0, response.body
    try:
        while data:
            chunk = inflater.decompress(data, 1 << 20)
            total += len(chunk)
            if total > limit:
                return (f"decompressed body larger than download max size ({limit}): "
                        f"{len(response.body)} bytes compressed, over {total} inflated")
            data = inflater.unconsumed_tail
    except zlib.error:
        return None  # not what it says it is: Scrapy's own decompression will report it
    return None
