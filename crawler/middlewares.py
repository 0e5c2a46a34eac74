"""Downloader middlewares: where the crawler may go, conditional requests, the fetch log."""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from archive.store import ArchiveWriteError

from .blocks import block_reason
from .context import CrawlerBound, archive_for, resume_urls_for, run_id_for
from .downloads import SPOOLED


def _header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _size_and_digest(request, response) -> tuple[int, str | None]:
    spooled = request.meta.get(SPOOLED)
    if spooled:
        return spooled["size"], spooled["sha256"]
    body = response.body or b""
    return len(body), hashlib.sha256(body).hexdigest() if body else None


def _drop_spooled(request) -> None:
    spooled = request.meta.pop(SPOOLED, None)
    if spooled:
        Path(spooled["path"]).unlink(missing_ok=True)


def _private(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost"
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


def _log(crawler, request, **row) -> None:
    referer = request.headers.get("Referer")
    site = request.meta.get("site") or {}
    archive_for(crawler).log_fetch(
        run_id=run_id_for(crawler), site_id=site.get("id"), url=request.url,
        referer=referer.decode("latin-1") if referer else None, **row,
    )


def _count(crawler, request, name: str) -> None:
    crawler.stats.inc_value(f"nianbao/{name}")
    site = (request.meta.get("site") or {}).get("id")
    if site:
        crawler.stats.inc_value(f"nianbao/site/{site}/{name}")


class HostGuardMiddleware(CrawlerBound):
    """Only the hosts of the request's registry entry, over http(s); never a private or loopback
    address unless the registry entry itself is one. Redirects pass through here again."""

    def refusal(self, request) -> str | None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme!r} is not crawled"
        site = request.meta.get("site")
        if not site:
            return None  # robots.txt and other engine requests
        hosts = {urlsplit(u).hostname for u in site.get("start_urls", [])}
        host = parts.hostname or ""
        if host not in hosts:
            return f"host {host} is not the registry entry's ({', '.join(sorted(hosts))})"
        if _private(host) and not any(_private(h) for h in hosts):
            return f"{host} is a private or loopback address"
        return None

    def process_request(self, request, spider=None):
        reason = self.refusal(request)
        if reason:
            _log(self.crawler, request, status=None, bytes=0, outcome="refused", reason=reason)
            _count(self.crawler, request, "refused")
            raise IgnoreRequest(reason)
        return None


class ResumeMiddleware(CrawlerBound):
    """After a run was killed, what it already archived is not fetched again: the request is answered
    from the archive, as a 304 would be, and the spider reads the archived copy."""

    def process_request(self, request, spider=None):
        if request.meta.get("conditional") and request.url in resume_urls_for(self.crawler):
            _count(self.crawler, request, "resumed")
            # the stand-in must reach the spider as a real 304 would, or the page's links are never followed
            request.meta.setdefault("handle_httpstatus_list", []).append(304)
            return Response(request.url, status=304, request=request, flags=["resumed"])
        return None


class ConditionalRequestMiddleware(CrawlerBound):
    """Ask with ETag / Last-Modified for what the archive already holds; 304 reaches the spider."""

    def process_request(self, request, spider=None):
        if not request.meta.get("conditional") or request.meta.get("conditional_sent"):
            return None
        validators = archive_for(self.crawler).validators(request.url)
        if not validators:
            return None
        if validators.get("etag"):
            request.headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            request.headers["If-Modified-Since"] = validators["last_modified"]
        request.meta["conditional_sent"] = True
        request.meta.setdefault("handle_httpstatus_list", []).append(304)
        return None


class FetchLogMiddleware(CrawlerBound):
    """Record every response and failed request: URL, status, bytes, sha256, validators, outcome.
    Challenges and block statuses are recorded as blocked and go no further."""

    def process_response(self, request, response, spider=None):
        if "resumed" in response.flags:
            return response  # answered from the archive: nothing crossed the network
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
        _log(self.crawler, request, status=response.status, bytes=size, sha256=sha256, etag=_header(response, "ETag"),
             last_modified=_header(response, "Last-Modified"), outcome=outcome, reason=blocked)
        if outcome in ("blocked", "not_modified", "http_error"):
            _count(self.crawler, request, outcome)
        if outcome != "fetched" or 300 <= response.status < 400:
            _drop_spooled(request)  # error pages, challenges and redirects are never archived
        if blocked:
            raise IgnoreRequest(blocked)
        return response

    def process_exception(self, request, exception, spider=None):
        if isinstance(exception, IgnoreRequest):
            reason = str(exception)
            if "robots.txt" in reason.lower() or "Forbidden by robots" in reason:
                _log(self.crawler, request, status=None, bytes=0, outcome="robots", reason=reason)
                _count(self.crawler, request, "robots")
            return None
        reason = f"{type(exception).__name__}: {exception}"
        _log(self.crawler, request, status=None, bytes=0, outcome=_failure_outcome(exception), reason=reason)
        _count(self.crawler, request, "too_large" if _failure_outcome(exception) == "too_large" else "failed")
        return None


def _failure_outcome(exception) -> str:
    if isinstance(exception, ArchiveWriteError):
        return "store_failed"  # the disk refused the body as it streamed in
    if "download max size" in str(exception):
        return "too_large"  # DOWNLOAD_MAXSIZE: cancelled once the size is known to be too large
    return "error"
