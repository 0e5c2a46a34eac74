"""Standard WARC/1.1 files beside the blob store, so a crawl can be replayed in pywb/ReplayWeb.page.

One gzipped WARC per crawl run under ``DIR/warcs/``. Each fetch becomes a request
record and a response record, or a revisit record when the payload is already
held (identical-payload-digest) or the server answered 304 (server-not-modified).
A record is flushed and fsynced before the database row pointing at it is
committed (during a crawl, once per group of writes); a record cut short by a crash is truncated away on the next open.
"""

from __future__ import annotations

import heapq
import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import GzippingWrapper, WARCWriter

IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


@dataclass
class Exchange:
    """One HTTP request and its answer, as the crawler saw them."""

    url: str
    status: int
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    method: str = "GET"
    reason: str = ""
    fetched_at: str | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> Exchange | None:
        return cls(**data) if data else None


def _warc_date(iso: str | None) -> str:
    return _converted(iso) if iso else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=64)  # a fetch's records and its row share one time, and a busy crawl fetches many a second
def _converted(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_line(status: int, reason: str) -> str:
    from http import HTTPStatus

    try:
        reason = reason or HTTPStatus(status).phrase
    except ValueError:
        reason = reason or "Unknown"
    return f"{status} {reason}"


class _Gzip(GzippingWrapper):
    def __init__(self, out):
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out = out


class _GzipWriter(WARCWriter):
    """warcio's writer with each record a gzip member of its own, at zlib's default level: warcio's fixed 9 took a
    third more of the writer's CPU for files 1 % smaller (report files are PDF and DOCX, compressed already)."""

    def __init__(self, handle, **kwargs):
        super().__init__(handle, gzip=False, **kwargs)

    def _write_warc_record(self, out, record):
        return super()._write_warc_record(_Gzip(out), record)


class WarcFile:
    """Appends records to one WARC file; every write returns where the record landed."""

    def __init__(self, path: Path):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "ab")
        self.writer = _GzipWriter(self.handle, warc_version="1.1")
        self.sync_each = True  # False while the archive groups its writes: it calls sync() before committing

    def sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def _write(self, record) -> tuple[int, int, str]:
        offset = self.handle.tell()
        self.writer.write_record(record)
        self.handle.flush()  # in the file before any row points at it, even when the fsync waits for the group
        if self.sync_each:
            os.fsync(self.handle.fileno())
        return offset, self.handle.tell() - offset, record.rec_headers.get_header("WARC-Record-ID")

    def request(self, ex: Exchange, concurrent_to: str) -> tuple[int, int, str]:
        parts = urlsplit(ex.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
        headers = StatusAndHeaders(f"{ex.method} {target} HTTP/1.1", ex.request_headers or [("Host", parts.netloc)],
                                   is_http_request=True)
        record = self.writer.create_warc_record(
            ex.url, "request", payload=BytesIO(b""), http_headers=headers,
            warc_headers_dict={"WARC-Date": _warc_date(ex.fetched_at), "WARC-Concurrent-To": concurrent_to},
        )
        return self._write(record)

    def response(self, ex: Exchange, body: bytes | BinaryIO, length: int | None = None,
                 digest: str | None = None) -> tuple[int, int, str]:
        """A response record; the body is bytes, or an open file read a chunk at a time (with its length and
        payload digest, so it is not read twice)."""
        headers = StatusAndHeaders(_status_line(ex.status, ex.reason), ex.response_headers, protocol="HTTP/1.1")
        warc_headers = {"WARC-Date": _warc_date(ex.fetched_at)}
        if digest:
            warc_headers["WARC-Payload-Digest"] = digest
        stream = BytesIO(body) if isinstance(body, bytes) else body
        record = self.writer.create_warc_record(
            ex.url, "response", payload=stream, length=len(body) if isinstance(body, bytes) else length,
            http_headers=headers, warc_headers_dict=warc_headers,
        )
        return self._write(record)

    def revisit(self, ex: Exchange, body_sha1: str | None, original: dict, profile: str) -> tuple[int, int, str]:
        headers = StatusAndHeaders(_status_line(ex.status, ex.reason), ex.response_headers, protocol="HTTP/1.1")
        record = self.writer.create_revisit_record(
            ex.url, digest=body_sha1 or original.get("payload_digest"), refers_to_uri=original["url"],
            refers_to_date=original["date"], http_headers=headers,
        )
        record.rec_headers.replace_header("WARC-Date", _warc_date(ex.fetched_at))
        record.rec_headers.replace_header("WARC-Profile", profile)
        record.rec_headers.add_header("WARC-Refers-To", original["record_id"])
        return self._write(record)

    def close(self) -> None:
        self.handle.close()


def payload_digest(body: bytes) -> str:
    """WARC-Payload-Digest as warcio writes it (sha1, base32): warcio's own digester."""
    from warcio.utils import Digester

    digester = Digester("sha1")
    digester.update(body)
    return str(digester)


def truncate_to(path: Path, length: int) -> bool:
    """Cut a WARC back to its last committed record; True if anything was removed."""
    if path.exists() and path.stat().st_size > length:
        with open(path, "r+b") as handle:
            handle.truncate(length)
        return True
    return False


def read_payload(path: Path, offset: int) -> tuple[dict, bytes]:
    """The WARC headers and the HTTP payload of the record at an offset."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as handle:
        handle.seek(offset)
        record = next(iter(ArchiveIterator(handle)))
        return dict(record.rec_headers.headers), record.content_stream().read()


def write_cdxj(warc_dir: Path) -> Path:
    """A sorted CDXJ index of every WARC, for pywb: each WARC is indexed once (into ``cdxj/NAME.cdxj``, again only
    when the WARC changed after it, as a repair cuts it back), then the sorted per-WARC indexes are merged. A
    nightly crawl reads only its own new WARC, never the whole history; the result is what indexing every WARC
    in one sorted pass gives."""
    out = warc_dir / "index.cdxj"
    warcs = sorted(warc_dir.glob("*.warc.gz"))
    parts = [_indexed(warc) for warc in warcs]
    temporary = out.with_suffix(".cdxj.part")
    with open(temporary, "w", encoding="utf-8") as handle:
        last = None
        opened = [open(part, encoding="utf-8") for part in parts]
        try:
            for line in heapq.merge(*opened):
                if line != last:  # as cdxj_indexer's sorted output drops a line repeated
                    handle.write(line)
                last = line
        finally:
            for part in opened:
                part.close()
    temporary.replace(out)
    for stale in set((warc_dir / "cdxj").glob("*.cdxj")) - set(parts):
        stale.unlink()  # the WARC it indexed is gone
    return out


def _indexed(warc: Path) -> Path:
    """The sorted CDXJ index of one WARC, made when missing or older than the WARC."""
    from cdxj_indexer.main import CDXJIndexer

    part = warc.parent / "cdxj" / f"{warc.name}.cdxj"
    if part.exists() and part.stat().st_mtime_ns >= warc.stat().st_mtime_ns:
        return part
    part.parent.mkdir(exist_ok=True)
    temporary = part.with_suffix(".part")
    with open(temporary, "w", encoding="utf-8") as handle:
        CDXJIndexer(output=handle, inputs=[str(warc)], sort=True).process_all()
    temporary.replace(part)
    return part
