"""The archive: blobs on disk, everything else in ``DIR/nianbao.db``, behind one connection.

:class:`Archive` is the connection and its transactions; what it stores is split by table into mixins that
share ``self.db``:

    DocumentStore       archive/documents.py    sites, agencies, reports, documents, versions, blobs
    WarcRecords         archive/warc_records.py warc_records (the WARC files under DIR/warcs/)
    FetchLog            archive/fetchlog.py     fetches
    ListPages           archive/list_pages.py   list_pages (the columns' list pages as last read)
    RunLog              archive/runs.py         runs (and run_sites, through the functions there)
    ExtractionResults   archive/results.py      cells, checks, the extraction columns of versions

Each write happens in one transaction (or, while writes are grouped, one savepoint of the group's
transaction), after the blob and WARC records it points to are safely on disk, so a crash never leaves a row
pointing at nothing. The writer lock and the errors a write raises live in archive/writer.py; the names are
importable from here too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from . import schema
from .blobs import BlobStore
from .documents import LATEST_VERSION_SQL, DocumentStore, split_region  # noqa: F401 (re-exported)
from .fetchlog import FetchLog
from .list_pages import ListPages
from .results import ExtractionResults, cells_of  # noqa: F401 (re-exported)
from .runs import RunLog
from .warc import WarcFile
from .warc_records import WarcRecords
from .writer import (  # noqa: F401 (re-exported: callers import them from archive.store)
    DB_NAME,
    LOCK_NAME,
    ArchiveBusy,
    ArchiveDamaged,
    ArchiveWriteError,
    StorageFailed,
    acquire_writer,
    borrow_writer,
    check_intact,
    forget_inherited_locks,
    holds_writer_lock,
    integrity_problems,
    is_damage,
    is_storage_failure,
    now,
    release_writer,
    storage_failure_line,
    writer_lock,
)

BUSY_TIMEOUT_MS = 30000


class _Batch:
    def __init__(self, documents: int, seconds: float):
        self.documents, self.seconds = documents, seconds
        self.reset()

    def reset(self) -> None:
        self.writes = 0
        self.fetches: list[dict] = []
        self.files: set[Path] = set()
        self.opened = time.monotonic()

    def due(self) -> bool:
        return self.writes >= self.documents or (self.writes > 0 and time.monotonic() - self.opened >= self.seconds)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Archive(DocumentStore, WarcRecords, FetchLog, ListPages, RunLog, ExtractionResults):
    def __init__(self, data_dir: Path | str, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.dir = Path(data_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(self.dir / "blobs")
        self.db = sqlite_utils.Database(self.dir / DB_NAME)
        self.db.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        schema.apply(self.db)
        self.warc: WarcFile | None = None
        self.run_id: int | None = None
        self._batch: _Batch | None = None
        self._fsyncs: ThreadPoolExecutor | None = None

    @property
    def path(self) -> Path:
        return self.dir / DB_NAME

    def build_search(self) -> int:
        """The search index and the vocabulary of canonical keys, rebuilt for publishing."""
        from .search import build
        from .vocabulary import build as build_vocabulary

        build_vocabulary(self.db)
        return build(self.db)

    def checkpoint(self) -> None:
        """Fold the WAL into the database file: an immutable reader (Datasette) never reads the WAL."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -------------------------------------------------------------- grouped writes

    def group_writes(self, documents: int = 64, seconds: float = 1.0) -> None:
        """From here on (a crawl), writes are committed in groups: up to ``documents`` writes or ``seconds``
        old, with one fsync per file they touched (blobs, their directories, the WARC) before the one commit.
        The order that makes a crash safe stays: no committed row ever points at bytes not yet on disk. A
        SIGKILL or power cut loses at most the uncommitted group, which the next run fetches again."""
        self.flush_writes()
        self._batch = _Batch(documents, seconds)
        if self.warc is not None:
            self.warc.sync_each = False

    def flush_writes(self) -> None:
        """Sync what the open group wrote, then commit it."""
        batch = self._batch
        if batch is None:
            return
        if batch.files:
            # concurrent fsyncs share the file system's journal commits: the group costs about one sync
            pool = self._fsync_pool()
            list(pool.map(_fsync_path, batch.files))
            list(pool.map(_fsync_path, {path.parent for path in batch.files}))  # the renames that put them there
        if self.warc is not None and batch.writes:
            self.warc.sync()
        if batch.fetches:
            if not self.db.conn.in_transaction:
                self.db.conn.execute("BEGIN")
            self._insert_many("fetches", batch.fetches)
            batch.fetches = []
        if self.db.conn.in_transaction:
            self.db.conn.execute("COMMIT")
        batch.reset()

    def abandon_writes(self) -> None:
        """Undo the open group (a storage failure): its rows are rolled back; files it wrote stay unreferenced."""
        try:
            if self.db.conn.in_transaction:
                self.db.conn.rollback()
        except sqlite3.Error:
            pass
        if self._batch is not None:
            self._batch.reset()

    def _fsync_pool(self) -> ThreadPoolExecutor:
        # kept for the archive's life: a pool started per group cost a crawl's writer more than its fsyncs
        if self._fsyncs is None:
            self._fsyncs = ThreadPoolExecutor(8, thread_name_prefix="nianbao-fsync")
        return self._fsyncs

    def flush_if_due(self) -> None:
        if self._batch is not None and self._batch.due():
            self.flush_writes()

    @contextmanager
    def _write(self):
        """One write of the archive: its own transaction, or, while writes are grouped, a savepoint of the open
        group (so a failed write is undone alone)."""
        if self._batch is None:
            with self.db.conn:
                yield
            return
        if not self.db.conn.in_transaction:
            self.db.conn.execute("BEGIN")
        with self.db.atomic():
            yield
        self._batch.writes += 1
        if self._batch.due():
            self.flush_writes()

    # -------------------------------------------------------------- plain statements for the hot write path

    def _execute(self, sql: str, params) -> sqlite3.Cursor:
        return self.db.conn.execute(sql, params)

    def _one(self, sql: str, params) -> dict | None:
        """The first row of a query as a dict, or None."""
        cursor = self.db.conn.execute(sql, params)
        row = cursor.fetchone()
        return None if row is None else dict(zip((c[0] for c in cursor.description), row))

    def _insert(self, table: str, row: dict) -> int:
        """Insert one row by its column names; return its rowid."""
        return self._execute(_insert_sql(table, tuple(row)), [_value(v) for v in row.values()]).lastrowid

    def _insert_many(self, table: str, rows: list[dict]) -> None:
        """Insert rows that may name different columns: a column a row lacks is NULL."""
        if not rows:
            return
        columns = tuple(dict.fromkeys(key for row in rows for key in row))
        self.db.conn.executemany(_insert_sql(table, columns), ([_value(row.get(c)) for c in columns] for row in rows))


_INSERTS: dict[tuple, str] = {}


def _insert_sql(table: str, columns: tuple) -> str:
    sql = _INSERTS.get((table, columns))
    if sql is None:
        names = ", ".join(f'"{c}"' for c in columns)
        sql = _INSERTS[(table, columns)] = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    return sql


def _value(value):
    # what sqlite-utils did for these tables: a dict or list is stored as JSON text
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list, tuple)) else value
