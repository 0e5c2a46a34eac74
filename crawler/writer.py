"""The archive that writes, in a process of its own, and the crawl processes that hand it work.

One writer process per run. It takes ``function(archive, *args)`` calls from its clients (one per crawl
process: a single crawl has one, ``nianbao crawl --processes N`` has N and the parent that owns the run)
and runs them one after another on its one ``Archive``; each client's calls run in the order it made them.

A process, not a thread: the writer's Python (WARC records, SQL) would otherwise share a reactor's
interpreter lock, and on a busy crawl the two took turns on one core. One writer for all the crawl
processes of a run, not one each: the archive has one SQLite writer anyway, and grouped commits hold its
write lock for up to a second, which two writers would spend waiting on each other.

It dies with the process that started it: the kernel kills it when that process dies, however it dies (a
SIGKILL leaves nothing writing), and it ignores the signals a terminal sends to the whole group, so a
Ctrl-C still finishes the run in order. When its starter holds the archive's writer lock (``nianbao crawl``,
nightly), it writes under that hold; otherwise (``scrapy crawl``, a test) ``start_run`` takes the lock.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import sqlite3
import threading
import traceback
from concurrent.futures import Future

from archive.store import (
    Archive,
    ArchiveWriteError,
    StorageFailed,
    borrow_writer,
    holds_writer_lock,
    is_storage_failure,
)

logger = logging.getLogger(__name__)
_CLOSE = "close"  # a client's last call: answered once everything it handed over before is done


class WriterProcess:
    """Starts the writer process with ``clients`` channels; ``clients[i]`` can be sent to a spawned process."""

    def __init__(self, data_dir, clients: int = 1):
        context = multiprocessing.get_context("spawn")
        requests = context.Queue()
        replies = [context.Queue() for _ in range(clients)]
        self._process = context.Process(target=_serve, name="nianbao-writer",
                                        args=(str(data_dir), holds_writer_lock(data_dir), requests, replies))
        self._process.start()
        atexit.register(self.stop)  # a starter that ends on an error must not wait at exit for a writer still listening
        # a failure to open the archive is the answer to the first call; a client answers the process that first
        # used it, so the starter keeps one of its own (the last) and sends the others to crawl processes
        self.clients = [WriterClient(requests, reply, n, self._process.pid) for n, reply in enumerate(replies)]

    def kill(self) -> None:
        """As if the crawl had been killed: what the writer committed stays, its open group is lost."""
        atexit.unregister(self.stop)
        self._process.kill()
        self._process.join()
        self.clients[0].requests.cancel_join_thread()  # what this process had not yet sent it is dropped

    def stop(self) -> None:
        """After every client has closed: the writer closes its archive and ends."""
        atexit.unregister(self.stop)
        if self._process.is_alive():
            self.clients[0].requests.put(None)
        self._process.join()


class WriterClient:
    """One crawl process's channel to the writer: ``write`` (a Future), ``wait`` (awaited on the reactor),
    ``call`` (blocking: only while a crawl opens and closes), ``close``. A writer that died fails every call
    still waiting, with ArchiveWriteError, instead of leaving the crawl waiting for ever."""

    def __init__(self, requests, replies, index: int, writer_pid: int):
        self.requests, self.replies, self.index, self.writer_pid = requests, replies, index, writer_pid
        self._pending: dict[int, Future] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._dead: Exception | None = None  # set when the writer is found dead: every later call fails at once
        self.on_close = None  # the writer process's own client ends it when closed (``open_writer``)
        self.on_storage_failure = None  # called once, from a thread, when the writer's storage failed

    def __getstate__(self):
        return {"requests": self.requests, "replies": self.replies, "index": self.index,
                "writer_pid": self.writer_pid}

    def __setstate__(self, state):
        self.__init__(**state)

    def _submit(self, function, args, kwargs) -> Future:
        payload = pickle.dumps((function, args, kwargs))  # here, so what cannot be sent fails its caller
        future: Future = Future()
        with self._lock:
            if self._dead is not None:
                future.set_exception(self._dead)
                return future
            call = next(self._ids)
            self._pending[call] = future
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="nianbao-writer-replies", daemon=True)
                self._reader.start()
        self.requests.put((self.index, call, payload))
        return future

    def _read(self) -> None:
        while True:
            try:
                call, ok, value = self.replies.get(timeout=1.0)
            except queue.Empty:
                if not _alive(self.writer_pid):
                    self._fail_pending(ArchiveWriteError("the archive's writer process has died"))
                    return
                continue
            with self._lock:
                future = self._pending.pop(call, None)
            if future is None:  # a call already failed (it cannot happen while the writer lives; never stop reading)
                continue
            if ok is None:  # the answer to close
                future.set_result(None)
                return
            if not ok and isinstance(value, StorageFailed):
                self._storage_failed(value)
            future.set_result(value) if ok else future.set_exception(value)

    def _storage_failed(self, error: StorageFailed) -> None:
        """The writer stopped writing: later calls fail at once, and whoever asked hears of it once."""
        with self._lock:
            first = not isinstance(self._dead, StorageFailed)
            self._dead = error
        if first and self.on_storage_failure is not None:
            self.on_storage_failure(error)

    def _fail_pending(self, error: Exception) -> None:
        with self._lock:
            self._dead = error
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(error)

    def submit(self, function, *args, **kwargs) -> Future:
        """``function(archive, *args)`` in the writer; its answer (or failure) is the Future's, for whoever waits."""
        return self._submit(function, args, kwargs)

    def write(self, function, *args, **kwargs) -> Future:
        """``function(archive, *args)`` in the writer; a failure is logged when nobody waits for it."""
        future = self._submit(function, args, kwargs)
        future.add_done_callback(_log_failure)
        return future

    async def wait(self, function, *args, **kwargs):
        """``function(archive, *args)`` in the writer, awaited on the reactor (which goes on meanwhile)."""
        return await asyncio.wrap_future(self._submit(function, args, kwargs))

    def call(self, function, *args, **kwargs):
        """Run and wait, blocking the caller: only while the crawl opens and closes."""
        return self._submit(function, args, kwargs).result()

    def pid(self) -> int:
        return self.call(_pid)

    def close(self) -> None:
        """Wait for everything handed over, then stop listening (the writer goes on for other clients)."""
        try:
            self._submit(_CLOSE, (), {}).result()
        except StorageFailed:  # nothing more was written; the writer still ends
            pass
        with self._lock:
            self._dead = ArchiveWriteError("this channel to the archive's writer is closed")
        if self.on_close is not None:
            self.on_close()


def open_writer(data_dir, wait: bool = True) -> WriterClient:
    """A writer process of one's own, with its one client (a single crawl): closing the client ends the process.
    ``wait``: until it has opened the archive, so that a failure to open it is raised here; otherwise the answer
    to the first call says it."""
    process = WriterProcess(data_dir)
    client = process.clients[0]
    client.on_close = process.stop
    if wait:
        client.pid()
    return client


# ---------------------------------------------------------------------- in the writer process

def _serve(data_dir: str, borrowed: bool, requests, replies) -> None:
    _die_with_parent()
    for name in ("SIGINT", "SIGTERM"):  # the crawl decides when to stop; the writer finishes what it was given
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    if borrowed:
        borrow_writer(data_dir)
    archive = None
    stopped: StorageFailed | None = None  # the storage failed: nothing more is written for anyone
    try:
        archive = Archive(data_dir)
    except Exception as exc:  # said to the first caller (WriterProcess waits for the writer's pid)
        failure = exc
    while (message := requests.get()) is not None:
        client, call, payload = message
        try:
            function, args, kwargs = pickle.loads(payload)
            if function == _CLOSE:
                replies[client].put((call, None, None))
                continue
            if archive is None:
                raise failure
            if stopped is not None:
                raise stopped
            replies[client].put((call, True, function(archive, *args, **kwargs)))
        except BaseException as exc:  # every call gets its answer; the writer goes on with the next
            if stopped is None and archive is not None and is_storage_failure(exc):
                stopped = exc = _end_run(archive, exc)
            replies[client].put((call, False, _sendable(exc)))
    if archive is not None:
        archive.db.conn.close()


def import_for_end_run() -> None:
    """In the writer, once the run has started: what the run's end needs, imported in a thread while the crawl
    goes on instead of after its last request (the CDXJ indexer alone, whose AMF support loads pkg_resources and
    so reads every installed package's metadata, was a third of a second of a small crawl's wall time)."""
    threading.Thread(target=_import_for_end_run, name="nianbao-writer-imports", daemon=True).start()


def _import_for_end_run() -> None:
    try:
        import cdxj_indexer.main  # noqa: F401

        import nianbao.summary  # noqa: F401
    except Exception:  # noqa: BLE001 - imported again, and failing in its place, when the run ends
        pass


def fail_storage(archive: Archive, reason: str) -> None:
    """A crawl process met the storage failure (a body it spooled): the writer ends the run as if it had."""
    raise StorageFailed(reason)


def _end_run(archive: Archive, exc: BaseException) -> StorageFailed:
    """The storage failed: the run ends here, marked failed, its open group undone (archive/runs.py)."""
    cause = exc
    while (cause.__cause__ or cause.__context__) is not None and not isinstance(cause, (OSError, sqlite3.Error)):
        cause = cause.__cause__ or cause.__context__  # what the storage said, not what it was doing
    reason = f"[Errno {cause.errno}] {cause.strerror}" if isinstance(cause, OSError) and cause.strerror else str(cause)
    marked = archive.run_id is not None and archive.fail_run(archive.run_id, reason)
    return StorageFailed(reason + ("" if marked else "; the run could not even be marked failed: the next run "
                                   "marks it interrupted"))


def _sendable(exc: BaseException) -> BaseException:
    exc.add_note("in the archive's writer process:\n" + "".join(traceback.format_exception(exc)))
    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return ArchiveWriteError(f"{type(exc).__name__}: {exc}")


def _die_with_parent() -> None:
    """The kernel kills this process when its parent dies (and it ends now if the parent died while it started);
    top, ps and /proc/PID/comm show it by its role (nianbao-writer, nianbao-crawl-N: multiprocessing's name for
    it), not as one more python. The one process model: pipelines/readers/children.py."""
    from pipelines.readers.children import die_with_parent

    parent = multiprocessing.parent_process()
    die_with_parent(parent.pid if parent else None, name=multiprocessing.current_process().name)


def _pid(archive: Archive) -> int:
    return os.getpid()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has died, only not yet been reaped
    except (FileNotFoundError, IndexError):
        return False


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None \
            and not isinstance(future.exception(), StorageFailed):  # said once, by whoever stops the crawl
        error = future.exception()
        logger.error("archive write failed: %s: %s", type(error).__name__, error)
