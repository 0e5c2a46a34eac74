"""Downloader middlewares: the fetch log."""

from __future__ import annotations

import hashlib

from .context import archive_for, run_id_for


def _header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class FetchLogMiddleware:
    """Record every response and every failed request: URL, status, bytes, sha256, validators."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _log(self, request, **row) -> None:
        referer = request.headers.get("Referer")
        archive_for(self.crawler).log_fetch(
            run_id=run_id_for(self.crawler),
            site_id=request.meta.get("site", {}).get("id"),
            url=request.url,
            referer=referer.decode("latin-1") if referer else None,
            **row,
        )

    def process_response(self, request, response, spider=None):
        body = response.body or b""
        self._log(
            request,
            status=response.status,
            bytes=len(body),
            sha256=hashlib.sha256(body).hexdigest() if body else None,
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
            outcome="fetched" if response.status < 400 else "http_error",
        )
        return response

    def process_exception(self, request, exception, spider=None):
        self._log(request, status=None, bytes=0, outcome="error", reason=f"{type(exception).__name__}: {exception}")
        return None
