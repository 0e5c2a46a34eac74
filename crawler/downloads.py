"""Report files streamed to disk as they arrive, instead of being held whole in memory.

Scrapy's HTTP/1.1 handler keeps every body in memory until it is complete. Report files
(PDF, Word, spreadsheets) can be tens of megabytes and many download at once, so a request
marked ``meta["stream_to_disk"]`` has its body written chunk by chunk to a spool file in the
archive directory, hashed on the way; the response reaching the spider has an empty body and
``response.meta["spooled"]`` says where the bytes are, their size and digests. The archive then
moves that file into the blob store by renaming it. ``DOWNLOAD_MAXSIZE`` still applies while
streaming: a body that passes it is cut off at the limit and its spool file removed.

Pages stay in memory (they have to be parsed), and so do answers the server compressed in spite
of ``Accept-Encoding: identity``: Scrapy decompresses bodies in memory, after the download.

This leans on the internals of the pinned Scrapy's HTTP/1.1 handler (requirements.lock);
``tests/test_streaming.py`` fails if they move.
"""

from __future__ import annotations

from pathlib import Path

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError
from scrapy.utils._download_handlers import get_maxsize_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.python.failure import Failure

from archive.blobs import PayloadWriter
from archive.store import ArchiveWriteError

from .context import archive_for

STREAM_TO_DISK = "stream_to_disk"
SPOOLED = "spooled"


class _SpoolBuffer:
    """Stands in for the body reader's in-memory buffer (``write`` / ``truncate`` / ``getvalue``).
    A write the disk refuses ends the download at once with ArchiveWriteError."""

    def __init__(self, reader, writer: PayloadWriter, url: str):
        self.reader, self.writer, self.url = reader, writer, url
        self.failed = False

    def write(self, data: bytes) -> None:
        if self.failed:
            return
        try:
            self.writer.write(data)
        except OSError as exc:
            self.failed = True  # the errback below discards the partial file
            self.reader.transport.stopProducing()
            self.reader.transport.loseConnection()
            error = ArchiveWriteError(f"could not spool {self.url}: {type(exc).__name__}: {exc}")
            self.reader._finished.errback(Failure(error))

    def truncate(self, size: int = 0) -> None:
        self.writer.discard()  # Scrapy empties the buffer only to drop a body refused for its size

    def getvalue(self) -> bytes:
        return b""  # the body is on disk; what the response object holds is nothing


class _SpoolingAgent(_ScrapyAgent):
    """Hands the body reader a spool file where Scrapy's agent gives it an in-memory buffer."""

    def __init__(self, *, spool_dir: Path, **kwargs):
        super().__init__(**kwargs)
        self._spool_dir = spool_dir

    def _cb_bodyready(self, txresponse, request):
        encoded = txresponse.headers.getRawHeaders(b"content-encoding") or []
        if any(value.strip().lower() not in (b"", b"identity") for value in encoded):
            return super()._cb_bodyready(txresponse, request)
        deliver = txresponse.deliverBody

        def deliver_to_disk(reader):
            writer = PayloadWriter(self._spool_dir)
            reader._bodybuf = _SpoolBuffer(reader, writer, request.url)
            reader._finished.addCallbacks(_spooled(writer, request), _discarded(writer))
            deliver(reader)

        txresponse.deliverBody = deliver_to_disk
        return super()._cb_bodyready(txresponse, request)


def _spooled(writer: PayloadWriter, request):
    def done(result):
        request.meta[SPOOLED] = writer.close().as_dict()
        return result

    return done


def _discarded(writer: PayloadWriter):
    def failed(failure):
        writer.discard()  # refused for its size, timed out, cut off or the disk is full: nothing of it is kept
        return failure

    return failed


class DiskStreamingDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, streaming the bodies of requests marked ``stream_to_disk`` to disk,
    and saying why when a body was cut off for its size mid-stream (Scrapy's own error is empty then)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self._received: dict[int, int] = {}
        crawler.signals.connect(self._count, signal=signals.bytes_received)

    def _count(self, data, request, spider=None):
        self._received[id(request)] = self._received.get(id(request), 0) + len(data)

    async def download_request(self, request):
        request.meta.pop(SPOOLED, None)  # a redirect copies the meta of the answer it follows
        try:
            if request.meta.get(STREAM_TO_DISK):
                return await self._download_to_disk(request)
            return await super().download_request(request)
        except DownloadCancelledError as exc:
            limit = request.meta.get("download_maxsize", self._default_maxsize)
            received = self._received.get(id(request), 0)
            if limit and received > limit:
                raise DownloadCancelledError(get_maxsize_msg(received, limit, request, expected=False)) from exc
            raise
        finally:
            self._received.pop(id(request), None)

    async def _download_to_disk(self, request):
        agent = _SpoolingAgent(
            spool_dir=archive_for(self._crawler).spool_dir(),
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                response = await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            request.meta.pop(SPOOLED, None)
            raise
        if SPOOLED in request.meta:
            size = request.meta[SPOOLED]["size"]
            self._crawler.stats.inc_value("nianbao/streamed")
            self._crawler.stats.inc_value("nianbao/streamed_bytes", size)
            # Scrapy's own count measures the (empty) body the response object holds
            self._crawler.stats.inc_value("downloader/response_bytes", size)
        return response


def spooled_head(response, size: int, request=None) -> bytes:
    """The first bytes of a response's body, wherever the body is. (Downloader middlewares get the
    request beside the response: ``response.request`` is only set after them.)"""
    request = request or response.request
    spooled = request.meta.get(SPOOLED) if request else None
    if not spooled:
        return (response.body or b"")[:size]
    with open(spooled["path"], "rb") as handle:
        return handle.read(size)
