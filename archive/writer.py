"""The archive directory's two files (``nianbao.db``, ``writer.lock``): its one writer, what a write raises,
and a reader that can never write. Owns no table.

A second crawl, nightly, import, reextract or merge is refused at once, never queued; the lock dies with
its holder however it dies (flock).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

DB_NAME = "nianbao.db"
LOCK_NAME = "writer.lock"


class ArchiveWriteError(RuntimeError):
    """A write the archive could not make (disk full, database locked): nothing half-written remains."""


class ArchiveBusy(RuntimeError):
    """Another process is writing to this archive; a second writer is refused at once, never queued."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def read_only(data_dir):
    """A connection to DIR/nianbao.db that can neither write nor create it (sqlite3.Error when it is absent)."""
    db = sqlite3.connect(f"file:{Path(data_dir) / DB_NAME}?mode=ro", uri=True)
    try:
        yield db
    finally:
        db.close()


_held: dict[Path, list] = {}  # lock file -> [open handle, depth]: reentrant within one process


def _lock_path(data_dir) -> Path:
    return Path(data_dir).resolve() / LOCK_NAME


def holds_writer_lock(data_dir) -> bool:
    return _lock_path(data_dir) in _held


def acquire_writer(data_dir, command: str) -> None:
    """Take DIR/writer.lock (flock, released by the kernel when the holder dies, however it dies)."""
    path = _lock_path(data_dir)
    if path in _held:
        _held[path][1] += 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "a process that did not say who it is"
        handle.close()
        raise ArchiveBusy(f"another writer holds the archive {path.parent} ({holder}); "
                          f"only one crawl, nightly, import, reextract or merge may write to it at a time") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, {command}, since {now()}")
    handle.flush()
    _held[path] = [handle, 1]


def release_writer(data_dir) -> None:
    path = _lock_path(data_dir)
    entry = _held.get(path)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _held[path]
        if entry[0] is not None:  # a borrowed hold has no lock of its own to release
            fcntl.flock(entry[0], fcntl.LOCK_UN)
            entry[0].close()


def borrow_writer(data_dir) -> None:
    """In a process started by the lock's holder that dies with it (the crawl's writer process): write under
    the holder's lock, which this process neither takes nor releases."""
    _held.setdefault(_lock_path(data_dir), [None, 0])[1] += 1


@contextmanager
def writer_lock(data_dir, command: str):
    acquire_writer(data_dir, command)
    try:
        yield
    finally:
        release_writer(data_dir)


def forget_inherited_locks() -> None:
    """In a forked worker: drop this copy of the lock's file descriptor, so the lock dies with its real holder."""
    for handle, _ in _held.values():
        if handle is None:
            continue
        try:
            os.close(handle.fileno())
        except OSError:
            pass
    _held.clear()
