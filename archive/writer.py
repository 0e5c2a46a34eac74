"""The archive directory's two files (``nianbao.db``, ``writer.lock``): its one writer, what a write raises,
and a reader that can never write. Owns no table.

A second crawl, nightly, import, reextract or merge is refused at once, never queued; the lock dies with
its holder however it dies (flock).
"""

from __future__ import annotations

import errno
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


class StorageFailed(ArchiveWriteError):
    """The archive's storage refused a write (disk full, quota, read-only or failing disk): the run ends here,
    marked failed; what the failing group had written is undone, so nothing half-written is referenced."""


# errors of the storage, not of one file: each ends the run. EFBIG is one file over a size limit (that
# download's failure: store_failed), not a storage that can take nothing more
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}
# SQLITE_IOERR, SQLITE_FULL (primary codes; sqlite_errorcode is the extended one); READONLY only in its IO sense
_STORAGE_SQLITE = {10, 13}


def is_storage_failure(exc: BaseException) -> bool:
    """Whether `exc` (or what it was raised from) says the archive's storage can take no more writes."""
    while exc is not None:
        if isinstance(exc, StorageFailed):
            return True
        if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
            return True
        if isinstance(exc, sqlite3.Error) and (
                (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF in _STORAGE_SQLITE
                or any(words in str(exc) for words in ("disk is full", "disk I/O error"))):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def storage_failure_line(reason: str | BaseException, data_dir=None, run: bool = False) -> str:
    """The one line a command says when the archive's storage failed (`run`: a crawl's, which is marked failed)."""
    if isinstance(reason, OSError) and reason.strerror:
        reason = reason.strerror
    where = f" under {data_dir}" if data_dir else ""
    ended = "the run ended there, marked failed," if run else "the command stopped there"
    return (f"the archive's storage failed{where} ({reason}); {ended} and nothing half-written is referenced by "
            f"the database: free space and run the command again")


class ArchiveDamaged(RuntimeError):
    """The archive's database file is damaged (SQLite: malformed, or not a database at all)."""


# SQLITE_CORRUPT, SQLITE_NOTADB: the file, not the query or the moment, is wrong
_DAMAGE_CODES = {11, 26}


def is_damage(exc: BaseException) -> bool:
    """Whether `exc` (or what it was raised from) says the database file is damaged."""
    while exc is not None:
        if isinstance(exc, ArchiveDamaged):
            return True
        if isinstance(exc, sqlite3.DatabaseError) and (
                getattr(exc, "sqlite_errorcode", None) in _DAMAGE_CODES
                or any(words in str(exc) for words in ("malformed", "not a database"))):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def integrity_problems(data_dir, quick: bool = False, limit: int = 20) -> list[str]:
    """What SQLite's own check finds wrong in DIR/nianbao.db (none: an empty list). ``quick`` skips the
    comparison of indexes with their tables (PRAGMA quick_check): still one pass over every page."""
    pragma = "quick_check" if quick else "integrity_check"
    failure = None
    for most in dict.fromkeys((limit, 3, 1)):  # a check asked for more can stop at a page it cannot step over,
        try:                                   # with nothing said: asked for fewer, it says where the damage is
            with read_only(data_dir) as db:
                rows = [row for (row,) in db.execute(f"PRAGMA {pragma}({int(most)})")]
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            failure = failure or exc
            continue
        if rows == ["ok"]:
            return [str(failure)] if failure else []
        return [line for row in rows for line in row.splitlines() if line.strip() and not line.startswith("***")]
    return [str(failure)]


def check_intact(data_dir) -> None:
    """Raise ArchiveDamaged naming the first problems when DIR/nianbao.db exists and is damaged."""
    if not (Path(data_dir) / DB_NAME).exists():
        return
    problems = integrity_problems(data_dir, quick=True, limit=3)
    if problems:
        raise ArchiveDamaged(damage_line(data_dir, problems))


def damage_line(data_dir, problems: list[str]) -> str:
    first = "; ".join(" ".join(p.split()) for p in problems[:2])
    return (f"the archive's database {Path(data_dir) / DB_NAME} is damaged ({first}); nothing was changed. "
            f"`nianbao verify --data {data_dir}` lists the damage; restore the file from a copy")


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
