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

Scrapy has no public way to do this: its ``bytes_received`` signal sees each chunk, but the handler
keeps appending it to an in-memory buffer all the same, and ``StopDownload`` ends the download. So
this leans on internals of the pinned Scrapy's HTTP/1.1 handler (requirements.lock), listed with the
lines of their source it relies on in ``INTERNALS`` below;
``tests/test_extension.py::test_the_scrapy_internals_streaming_needs_are_there`` fails as soon as one
of them moves, and the end-to-end tests of tests/test_streaming.py fail if their behaviour does:
- ``_ScrapyAgent._cb_bodyready(txresponse, request)``: where the agent hands the response body to a
  ``_ResponseReader``, so a spool file can be put in that reader's place;
- the reader's ``_bodybuf`` (an in-memory buffer it writes, truncates and reads back) and its
  ``_finished`` deferred (fired with the response, or errbacked to abort);
- ``scrapy.utils._download_handlers``'s ``get_maxsize_msg`` and ``wrap_twisted_exceptions``, to word
  a size refusal and translate Twisted's errors as the stock handler does.
"""

from __future__ import annotations

from pathlib import Path

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ResponseReader, _ScrapyAgent
from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError
from scrapy.utils._download_handlers import get_maxsize_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.python.failure import Failure

from archive.blobs import PayloadWriter
from archive.store import ArchiveWriteError, StorageFailed, is_storage_failure

from .extension import ArchiveExtension

STREAM_TO_DISK = "stream_to_disk"
SPOOLED = "spooled"

# What of Scrapy's private HTTP/1.1 handler this module relies on (see the module's docstring): for each
# function, the lines of its source this module's stand-ins depend on.
INTERNALS = {
    _ScrapyAgent._cb_bodyready: ("txresponse.deliverBody(", "_ResponseReader("),
    _ResponseReader.__init__: ("self._finished: Deferred[_ResultT] = finished", "self._bodybuf: BytesIO = BytesIO()"),
    _ResponseReader.dataReceived: ("self._bodybuf.write(data)", "self._bodybuf.truncate(0)", "self._finished.cancel()"),
    _ResponseReader._finish_response: ('"body": self._bodybuf.getvalue()',),
}


class TooLarge(DownloadCancelledError):
    """Cut off by DOWNLOAD_MAXSIZE (declared or received): its own type, so the fetch log says too_large."""


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
            # a full disk ends the run (the crawl stops: crawler/extension.py); one file too large ends its download
            kind = StorageFailed if is_storage_failure(exc) else ArchiveWriteError
            error = kind(f"could not spool {self.url}: {type(exc).__name__}: {exc}")
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
        self._declared: dict[int, int] = {}
        self._archive = ArchiveExtension.of(crawler)  # handlers are made after the extensions
        crawler.signals.connect(self._count, signal=signals.bytes_received)
        crawler.signals.connect(self._headers, signal=signals.headers_received)

    def _count(self, data, request, spider=None):
        self._received[id(request)] = self._received.get(id(request), 0) + len(data)

    def _headers(self, headers, body_length, request, spider=None):
        self._declared[id(request)] = body_length

    async def download_request(self, request):
        request.meta.pop(SPOOLED, None)  # a redirect copies the meta of the answer it follows
        try:
            if request.meta.get(STREAM_TO_DISK) and self._archive is not None:  # without an archive: in memory
                return await self._download_to_disk(request, self._archive.spool_dir())
            return await super().download_request(request)
        except DownloadCancelledError as exc:
            limit = request.meta.get("download_maxsize", self._default_maxsize)
            received, declared = self._received.get(id(request), 0), self._declared.get(id(request), -1)
            if limit and received > limit:
                raise TooLarge(get_maxsize_msg(received, limit, request, expected=False)) from exc
            if limit and declared > limit:
                raise TooLarge(str(exc) or get_maxsize_msg(declared, limit, request, expected=True)) from exc
            raise
        finally:
            self._received.pop(id(request), None)
            self._declared.pop(id(request), None)

    async def _download_to_disk(self, request, spool_dir: Path):
        agent = _SpoolingAgent(
            spool_dir=spool_dir,
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


def drop_spooled(request) -> None:
    """A body streamed to disk that will not be archived (an error page, a redirect, not a file): removed."""
    spooled = request.meta.pop(SPOOLED, None)
    if spooled:
        Path(spooled["path"]).unlink(missing_ok=True)


def spooled_head(response, size: int, request=None) -> bytes:
    """The first bytes of a response's body, wherever the body is. (Downloader middlewares get the
    request beside the response: ``response.request`` is only set after them.)"""
    request = request or response.request
    spooled = request.meta.get(SPOOLED) if request else None
    if not spooled:
        return (response.body or b"")[:size]
    with open(spooled["path"], "rb") as handle:
        return handle.read(size)
