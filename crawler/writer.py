"""The archive that writes, in a process of its own, and the crawl processes that hand it work.

One writer process per run. It takes ``function(archive, *args)`` calls from its clients (one per crawl
process: a single crawl has one, ``nianbao crawl --processes N`` has N and the parent that owns the run)
and runs them one after another on its one ``Archive``; each client's calls run in the order it made them.
Each client has a connection of its own (a socket pair), written and read directly: multiprocessing's
queues hand every message to a feeder thread, and waking it, in the writer and in every crawl process, was
a sixth of the writer's CPU.

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
import signal
import threading
import traceback
from concurrent.futures import Future
from multiprocessing.connection import wait as wait_for_any

from archive.store import Archive, ArchiveWriteError, borrow_writer, holds_writer_lock

logger = logging.getLogger(__name__)
_CLOSE = "close"  # a client's last call: answered once everything it handed over before is done


class WriterProcess:
    """Starts the writer process with ``clients`` channels; ``clients[i]`` can be sent to a spawned process."""

    def __init__(self, data_dir, clients: int = 1):
        context = multiprocessing.get_context("spawn")
        pairs = [context.Pipe() for _ in range(clients)]  # (writer's end, client's end)
        self._process = context.Process(target=_serve, name="nianbao-writer",
                                        args=(str(data_dir), holds_writer_lock(data_dir), [w for w, _ in pairs]))
        self._process.start()
        for writer_end, _ in pairs:
            writer_end.close()  # the writer's alone: when it dies, every client reads the end of its connection
        atexit.register(self.stop)  # a starter that ends on an error must not wait at exit for a writer still listening
        # a failure to open the archive is the answer to the first call; a client answers the process that first
        # used it, so the starter keeps one of its own (the last) and sends the others to crawl processes
        self.clients = [WriterClient(end, self._process.pid) for _, end in pairs]

    def kill(self) -> None:
        """As if the crawl had been killed: what the writer committed stays, its open group is lost."""
        atexit.unregister(self.stop)
        self._process.kill()
        self._process.join()

    def stop(self) -> None:
        """After every client has closed: the writer closes its archive and ends."""
        atexit.unregister(self.stop)
        if self._process.is_alive():
            try:
                self.clients[-1].connection.send_bytes(pickle.dumps(None))
            except OSError:  # it died meanwhile
                pass
        self._process.join()


class WriterClient:
    """One crawl process's channel to the writer: ``write`` (a Future), ``wait`` (awaited on the reactor),
    ``call`` (blocking: only while a crawl opens and closes), ``close``. A writer that died fails every call
    still waiting, with ArchiveWriteError, instead of leaving the crawl waiting for ever."""

    def __init__(self, connection, writer_pid: int):
        self.connection, self.writer_pid = connection, writer_pid
        self._pending: dict[int, Future] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._dead: Exception | None = None  # set when the writer is found dead: every later call fails at once
        self.on_close = None  # the writer process's own client ends it when closed (``open_writer``)

    def __getstate__(self):
        return {"connection": self.connection, "writer_pid": self.writer_pid}

    def __setstate__(self, state):
        self.__init__(**state)

    def _submit(self, function, args, kwargs) -> Future:
        future: Future = Future()
        with self._lock:
            if self._dead is not None:
                future.set_exception(self._dead)
                return future
            call = next(self._ids)
            message = pickle.dumps((call, function, args, kwargs))  # here, so what cannot be sent fails its caller
            self._pending[call] = future
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="nianbao-writer-replies", daemon=True)
                self._reader.start()
            try:
                # a full socket buffer blocks the sender until the writer catches up: the crawl's back-pressure
                self.connection.send_bytes(message)
            except OSError:
                self._pending.pop(call)
                future.set_exception(ArchiveWriteError("the archive's writer process has died"))
        return future

    def _read(self) -> None:
        while True:
            try:
                if not self.connection.poll(1.0):
                    if not _alive(self.writer_pid):  # dead, its end held open elsewhere (a forked child)
                        raise EOFError
                    continue
                call, ok, value = pickle.loads(self.connection.recv_bytes())
            except (EOFError, OSError):
                self._fail_pending(ArchiveWriteError("the archive's writer process has died"))
                return
            with self._lock:
                future = self._pending.pop(call, None)
            if future is None:  # a call already failed (it cannot happen while the writer lives; never stop reading)
                continue
            if ok is None:  # the answer to close
                future.set_result(None)
                return
            future.set_result(value) if ok else future.set_exception(value)

    def _fail_pending(self, error: Exception) -> None:
        with self._lock:
            self._dead = error
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(error)

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
        self._submit(_CLOSE, (), {}).result()
        with self._lock:
            self._dead = ArchiveWriteError("this channel to the archive's writer is closed")
        if self.on_close is not None:
            self.on_close()


def open_writer(data_dir) -> WriterClient:
    """A writer process of one's own, with its one client (a single crawl): closing the client ends the process."""
    process = WriterProcess(data_dir)
    client = process.clients[0]
    client.on_close = process.stop
    client.pid()  # opened now, so a failure to open the archive is raised here
    return client


# ---------------------------------------------------------------------- in the writer process

def _serve(data_dir: str, borrowed: bool, connections: list) -> None:
    _die_with_parent()
    for name in ("SIGINT", "SIGTERM"):  # the crawl decides when to stop; the writer finishes what it was given
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    if borrowed:
        borrow_writer(data_dir)
    archive = None
    try:
        archive = Archive(data_dir)
    except Exception as exc:  # said to the first caller (WriterProcess waits for the writer's pid)
        failure = exc
    listening = list(connections)
    while listening:
        for connection in wait_for_any(listening):
            try:
                message = pickle.loads(connection.recv_bytes())
            except (EOFError, OSError):  # that client's process is gone; the others go on
                listening.remove(connection)
                continue
            if message is None:  # the starter's stop, after every client closed
                listening = []
                break
            _answer(connection, archive if archive is not None else failure, *message)
    if archive is not None:
        archive.db.conn.close()


def _answer(connection, archive, call, function, args, kwargs) -> None:
    try:
        if function == _CLOSE:
            reply = (call, None, None)
        elif isinstance(archive, BaseException):  # the archive could not be opened
            raise archive
        else:
            reply = (call, True, function(archive, *args, **kwargs))
    except BaseException as exc:  # every call gets its answer; the writer goes on with the next
        reply = (call, False, _sendable(exc))
    try:
        message = pickle.dumps(reply)
    except Exception as exc:  # an answer that cannot cross processes still answers the call
        message = pickle.dumps((call, False, ArchiveWriteError(f"the writer's answer cannot be sent: {exc}")))
    try:
        connection.send_bytes(message)
    except OSError:  # the client is gone: nobody to answer
        pass


def _sendable(exc: BaseException) -> BaseException:
    exc.add_note("in the archive's writer process:\n" + "".join(traceback.format_exception(exc)))
    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return ArchiveWriteError(f"{type(exc).__name__}: {exc}")


def _die_with_parent() -> None:
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _pid(archive: Archive) -> int:
    return os.getpid()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has died, only not yet been reaped
    except (FileNotFoundError, IndexError):
        return False


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        error = future.exception()
        logger.error("archive write failed: %s: %s", type(error).__name__, error)
