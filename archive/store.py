"""Writes and reads of the archive: blobs on disk, everything else in ``DIR/nianbao.db``.

A version is created only when a document's bytes change; an unchanged fetch
moves its ``last_seen``. Each write happens in one transaction, after the blob it
points to is safely on disk, so a crash never leaves a row pointing at nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from . import schema
from .blobs import BlobStore, SpooledPayload
from .warc import IDENTICAL, NOT_MODIFIED, Exchange, WarcFile, _warc_date, payload_digest, truncate_to

DB_NAME = "nianbao.db"
LOCK_NAME = "writer.lock"
BUSY_TIMEOUT_MS = 30000
_RUN_WARC = re.compile(r"nianbao-(\d+)\.warc\.gz")


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


class ArchiveWriteError(RuntimeError):
    """A write the archive could not make (disk full, database locked): nothing half-written remains."""


class ArchiveBusy(RuntimeError):
    """Another process is writing to this archive; a second writer is refused at once, never queued."""


# -------------------------------------------------------------- one writer per archive

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
        fcntl.flock(entry[0], fcntl.LOCK_UN)
        entry[0].close()


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
        try:
            os.close(handle.fileno())
        except OSError:
            pass
    _held.clear()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def split_region(region: str | None) -> dict:
    parts = (region or "").split("/")
    return {key: (parts[i] if i < len(parts) and parts[i] else None) for i, key in enumerate(("province", "city", "county"))}


class Archive:
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
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(_fsync_path, batch.files))
                list(pool.map(_fsync_path, {path.parent for path in batch.files}))  # the renames that put them there
        if self.warc is not None and batch.writes:
            self.warc.sync()
        if batch.fetches:
            if not self.db.conn.in_transaction:
                self.db.conn.execute("BEGIN")
            self.db["fetches"].insert_all(batch.fetches)
            batch.fetches = []
        if self.db.conn.in_transaction:
            self.db.conn.execute("COMMIT")
        batch.reset()

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

    # -------------------------------------------------------------- WARC

    def open_warc(self, run_id: int) -> None:
        """Start this run's WARC file, after cutting any record a crash left unfinished."""
        self.repair_warcs()
        self.run_id = run_id
        self.warc = WarcFile(self.dir / "warcs" / f"nianbao-{run_id:06d}.warc.gz")
        self.warc.sync_each = self._batch is None

    def repair_warcs(self) -> list[str]:
        """Cut back WARCs of runs known to be dead: this process holds the writer lock (so no other writer
        lives) and the run is no longer marked running. Files of other runs, and merged copies, are left alone."""
        if not holds_writer_lock(self.dir):
            raise ArchiveBusy(f"WARC repair in {self.dir} needs the archive's writer lock")
        dead = {run_id for (run_id,) in self.db.execute("SELECT id FROM runs WHERE status != 'running'")}
        repaired = []
        for path in sorted((self.dir / "warcs").glob("*.warc.gz")):
            owner = _RUN_WARC.fullmatch(path.name)
            if not owner or int(owner.group(1)) not in dead:
                continue
            end = self.db.execute(
                "SELECT max(offset + length) FROM warc_records WHERE filename = ?", [path.name]).fetchone()[0] or 0
            if truncate_to(path, end):
                repaired.append(path.name)
        return repaired

    def _original(self, where: str, params: list) -> dict | None:
        rows = list(self.db.query(
            f"SELECT * FROM warc_records WHERE record_type = 'response' AND {where} ORDER BY id LIMIT 1", params))
        return rows[0] if rows else None

    def _warc_exchange(self, exchange: Exchange, data: bytes | SpooledPayload | None, sha256: str | None,
                       url: str) -> list[dict]:
        """Write the exchange's records; return the rows that will point at them."""
        if self.warc is None or exchange is None:
            return []
        date = _warc_date(exchange.fetched_at)
        if data is None:  # 304: the server says the archived payload still stands
            original = self._original("url = ?", [url])
            if original is None:
                return []
            where = self.warc.revisit(exchange, None, original, NOT_MODIFIED)
            kind, profile, digest, refers = "revisit", NOT_MODIFIED, original["payload_digest"], original["record_id"]
            sha256 = original["payload_sha256"]
        else:
            digest = data.warc_digest if isinstance(data, SpooledPayload) else payload_digest(data)
            original = self._original("payload_sha256 = ?", [sha256])
            if original:
                where = self.warc.revisit(exchange, digest, original, IDENTICAL)
                kind, profile, refers = "revisit", IDENTICAL, original["record_id"]
            elif isinstance(data, SpooledPayload):  # read back from the blob store, a chunk at a time
                with open(self.blobs.path(sha256), "rb") as body:
                    where = self.warc.response(exchange, body, length=data.size, digest=digest)
                kind, profile, refers = "response", None, None
            else:
                where = self.warc.response(exchange, data)
                kind, profile, refers = "response", None, None
        rows = [self._warc_row(where, kind, profile, url, date, sha256, digest, refers, None)]
        request = self.warc.request(exchange, where[2])
        rows.append(self._warc_row(request, "request", None, url, date, None, None, None, where[2]))
        return rows

    def _warc_row(self, where, kind, profile, url, date, sha256, digest, refers, concurrent) -> dict:
        offset, length, record_id = where
        return {"run_id": self.run_id, "filename": self.warc.path.name, "offset": offset, "length": length,
                "record_id": record_id, "record_type": kind, "profile": profile, "url": url, "date": date,
                "payload_sha256": sha256, "payload_digest": digest, "refers_to": refers, "concurrent_to": concurrent}

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

    # -------------------------------------------------------------- runs and fetch log

    def start_run(self, command: str, sites: list[str]) -> int:
        """Record a new run; its process holds the writer lock from here to finish_run or its death (reentrant:
        the ``nianbao`` command usually took it already), so a run still marked running was killed."""
        acquire_writer(self.dir, command)
        with self.db.conn:
            # a run still "running" when another starts was killed: say so
            self.db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            run_id = self.db["runs"].insert(
                {"started": now(), "command": command, "sites": json.dumps(sites), "status": "running"}
            ).last_pk
        shutil.rmtree(self.dir / "spool", ignore_errors=True)  # half-received bodies of killed runs
        return run_id

    def spool_dir(self) -> Path:
        """Where this run's downloads stream to before they are moved into the blob store."""
        return self.dir / "spool" / f"run-{self.run_id or 0:06d}"

    def fetched_by_interrupted_run(self) -> set[str]:
        """URLs the last run fetched before it was killed (its row still says running)."""
        rows = self.db.execute("SELECT id FROM runs WHERE status = 'running' ORDER BY id DESC LIMIT 1").fetchall()
        if not rows:
            return set()
        return {url for (url,) in self.db.execute(
            "SELECT f.url FROM fetches f JOIN documents d ON d.url = f.url WHERE f.run_id = ? "
            "AND f.outcome IN ('fetched', 'not_modified')", [rows[0][0]])}

    def finish_run(self, run_id: int, status: str, stats: dict) -> None:
        self.flush_writes()
        if run_id == self.run_id:  # bodies refused or never archived (HTTP errors) end here
            shutil.rmtree(self.spool_dir(), ignore_errors=True)
        with self.db.conn:
            self.db["runs"].update(
                run_id, {"finished": now(), "status": status, "stats": json.dumps(stats, ensure_ascii=False)}
            )
        if run_id == self.run_id:
            release_writer(self.dir)  # the hold start_run took; the command's own hold, if any, remains

    def log_fetch(self, **row) -> None:
        row.setdefault("fetched_at", now())
        if self._batch is not None:  # grouped: the group's fetch-log rows go in with one insert at its commit
            self._batch.fetches.append(row)
            self._batch.writes += 1
            if self._batch.due():
                self.flush_writes()
            return
        with self._write():
            self.db["fetches"].insert(row)

    # -------------------------------------------------------------- sites, agencies, reports

    def ensure_site(self, site: dict) -> None:
        row = {
            "id": site["id"],
            "name": site["name"],
            "region": site.get("region"),
            "cms": site.get("cms"),
            "start_urls": json.dumps(site.get("start_urls", [])),
            **split_region(site.get("region")),
        }
        with self._write():
            self.db["sites"].upsert(row, pk="id")

    def ensure_report(self, agency: str | None, year: int, title: str, site: dict | None = None) -> int:
        """The report of (agency, year), created once: storing it again only moves last_seen. An
        agency is never None: without one the registry entry's name stands in (never a new, nameless
        agency per call)."""
        site = site or {}
        agency = " ".join((agency or "").split()) or site.get("name") or site.get("id")
        if not agency:
            raise ValueError("a report needs an agency: none was given and the site has no name")
        seen = now()
        with self._write():
            agency_id = self._agency_id(agency, site)
            existing = list(self.db["reports"].rows_where("agency_id = ? AND year = ?", [agency_id, year], limit=1))
            if existing:
                self.db["reports"].update(existing[0]["id"], {"last_seen": seen})
                return existing[0]["id"]
            return self.db["reports"].insert(
                {"agency_id": agency_id, "year": year, "title": title, "first_seen": seen, "last_seen": seen}
            ).last_pk

    def report_of_url(self, url: str) -> int | None:
        """The report a document URL already belongs to: a re-fetch never moves it to another."""
        row = self.db.execute("SELECT report_id FROM documents WHERE url = ?", [url]).fetchone()
        return row[0] if row else None

    def agency_of_index_owner(self, owner: str) -> str | None:
        """The agency already archived under a 索引号 owner (the agency code before the "/" of
        ``11350503003534456T/2023-00012``): one code, one agency, whatever later titles say."""
        row = self.db.execute(
            "SELECT a.name FROM documents d JOIN reports r ON r.id = d.report_id JOIN agencies a ON a.id = r.agency_id "
            "WHERE json_extract(d.metadata, '$.索引号') LIKE ? ORDER BY d.id LIMIT 1", [owner + "/%"]).fetchone()
        return row[0] if row else None

    def document_metadata(self, url: str) -> dict | None:
        row = self.db.execute("SELECT metadata FROM documents WHERE url = ?", [url]).fetchone()
        return json.loads(row[0] or "{}") if row else None

    def _agency_id(self, name: str, site: dict) -> int:
        rows = list(self.db["agencies"].rows_where("name = ?", [name], limit=1))
        if rows:
            return rows[0]["id"]
        row = {"name": name, "site_id": site.get("id"), "region": site.get("region"), **split_region(site.get("region"))}
        return self.db["agencies"].insert(row).last_pk

    # -------------------------------------------------------------- documents and versions

    def store_payload(
        self,
        *,
        report_id: int,
        url: str,
        role: str,
        data: bytes | SpooledPayload,
        media_type: str | None = None,
        fmt: str | None = None,
        title: str | None = None,
        referer: str | None = None,
        metadata: dict | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        exchange: Exchange | None = None,
    ) -> tuple[int, bool]:
        """Keep one fetched payload (bytes, or a file the crawler streamed it to); return (version id, whether
        it is a new version).

        Blob and WARC records reach the disk first; the rows pointing at them are
        committed together afterwards, so a crash leaves no row pointing at nothing."""
        try:
            return self._store_payload(report_id, url, role, data, media_type, fmt, title, referer, metadata, etag,
                                       last_modified, exchange)
        except (OSError, sqlite3.OperationalError) as exc:
            raise ArchiveWriteError(f"could not archive {url}: {type(exc).__name__}: {exc}") from exc

    def _store_payload(self, report_id, url, role, data, media_type, fmt, title, referer, metadata, etag,
                       last_modified, exchange) -> tuple[int, bool]:
        sync = self._batch is None  # grouped: the batch syncs every file it touched before its commit
        if isinstance(data, SpooledPayload):
            sha256, size = self.blobs.put_spooled(data, sync=sync), data.size
        else:
            sha256, size = self.blobs.put(data, sync=sync), len(data)
        if not sync:
            self._batch.files.add(self.blobs.path(sha256))
        warc_rows = self._warc_exchange(exchange, data, sha256, url)
        seen = now()
        with self._write():
            self.db["warc_records"].insert_all(warc_rows)
            if not self.db["blobs"].count_where("sha256 = ?", [sha256]):
                self.db["blobs"].insert(
                    {"sha256": sha256, "size": size, "media_type": media_type, "first_url": url, "stored_at": seen}
                )
            document_id = self._document_id(report_id, url, role, fmt, title, referer, metadata, seen)
            existing = list(self.db["versions"].rows_where("document_id = ? AND sha256 = ?", [document_id, sha256]))
            if existing:
                self.db["versions"].update(existing[0]["id"], {"last_seen": seen, "etag": etag, "last_modified": last_modified})
                return existing[0]["id"], False
            version_id = self.db["versions"].insert(
                {"document_id": document_id, "sha256": sha256, "first_seen": seen, "last_seen": seen, "etag": etag,
                 "last_modified": last_modified, "extract_status": "pending"}
            ).last_pk
            return version_id, True

    def _document_id(self, report_id, url, role, fmt, title, referer, metadata, seen) -> int:
        rows = list(self.db["documents"].rows_where("url = ?", [url], limit=1))
        if rows:
            self.db["documents"].update(rows[0]["id"], {"last_seen": seen})
            return rows[0]["id"]
        return self.db["documents"].insert(
            {"report_id": report_id, "url": url, "role": role, "format": fmt, "title": title, "referer": referer,
             "metadata": json.dumps(metadata or {}, ensure_ascii=False), "first_seen": seen, "last_seen": seen}
        ).last_pk

    def touch_unchanged(self, url: str, exchange: Exchange | None = None) -> bool:
        """A fetch the server answered 304 for: the latest version was seen again."""
        warc_rows = self._warc_exchange(exchange, None, None, url)
        seen = now()
        with self._write():
            self.db["warc_records"].insert_all(warc_rows)
            latest = self.latest_version(url)
            if latest is None:
                return False
            self.db["versions"].update(latest["id"], {"last_seen": seen})
            self.db.execute("UPDATE documents SET last_seen = ? WHERE url = ?", [seen, url])
            return True

    def latest_version(self, url: str) -> dict | None:
        """The newest version stored for a URL (the one query for it): id, sha256 and its validators."""
        rows = list(self.db.query(
            "SELECT v.id, v.sha256, v.etag, v.last_modified FROM versions v JOIN documents d ON d.id = v.document_id "
            "WHERE d.url = ? ORDER BY v.id DESC LIMIT 1", [url]))
        return rows[0] if rows else None

    def latest_body(self, url: str) -> bytes | None:
        latest = self.latest_version(url)
        return self.blobs.get(latest["sha256"]) if latest else None

    def validators(self, url: str) -> dict | None:
        latest = self.latest_version(url)
        return {"etag": latest["etag"], "last_modified": latest["last_modified"]} if latest else None

    # -------------------------------------------------------------- extraction results

    _JOB_SQL = (
        "SELECT v.id, v.sha256, d.url, d.format, d.title, d.metadata, b.media_type, r.title AS report_title, "
        "a.name AS agency, r.published FROM versions v JOIN documents d ON d.id = v.document_id "
        "JOIN blobs b ON b.sha256 = v.sha256 JOIN reports r ON r.id = d.report_id "
        "JOIN agencies a ON a.id = r.agency_id"
    )

    def pending_versions(self, all_versions: bool = False, parser_version: str | None = None,
                         retry_failed: bool = False) -> list[dict]:
        """Versions to extract: pending ones, those read by another parser version, and (retry_failed) those
        that failed; with all_versions, every one."""
        sql, params = self._JOB_SQL, []
        if not all_versions:
            sql += " WHERE v.extract_status = 'pending'"
            if retry_failed:
                sql += " OR v.extract_status = 'failed'"
            if parser_version:
                sql += " OR v.parser_version IS NOT ?"
                params.append(parser_version)
        return list(self.db.query(sql + " ORDER BY v.id", params))

    def extracted_twins(self, sha256s: set[str], parser_version: str) -> list[dict]:
        """Versions of these payloads already read by this parser version, with their record and text."""
        rows: list[dict] = []
        ordered = sorted(sha256s)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start:start + 500]
            rows += self.db.query(
                self._JOB_SQL.replace("SELECT v.id,", "SELECT v.id, v.record, v.text,")
                + f" WHERE v.extract_status = 'ok' AND v.parser_version = ? AND v.sha256 IN ({','.join('?' * len(chunk))})",
                [parser_version, *chunk])
        return rows

    def save_extraction(self, version_id: int, record: dict | None, text: str | None, error: str | None, parser_version: str) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM cells WHERE version_id = ?", [version_id])
            self.db.execute("DELETE FROM checks WHERE version_id = ?", [version_id])
            update = {"parser_version": parser_version, "extracted_at": now(), "text": text}
            if record is None:
                update.update({"extract_status": "failed", "extract_error": error, "record": None, "template": None})
            else:
                update.update({"extract_status": "ok", "extract_error": None, "template": record.get("template"),
                               "record": json.dumps(record, ensure_ascii=False)})
                self.db["cells"].insert_all(cells_of(version_id, record))
                self.db["checks"].insert_all({"version_id": version_id, **_check_row(c)} for c in record.get("checks", []))
            self.db["versions"].update(version_id, update)

    def choose_sources(self) -> None:
        """For every report, the version its figures come from, and why."""
        from .sources import choose

        with self.db.conn:
            for report in self.db["reports"].rows:
                chosen = choose(self.db, report["id"])
                if chosen:
                    self.db["reports"].update(report["id"], chosen)


def _check_row(check: dict) -> dict:
    return {
        "check_id": check["id"],
        "scope": check["scope"],
        "status": check["status"],
        "expected": check.get("expected"),
        "actual": check.get("actual"),
        "detail": check.get("detail"),
    }


def cells_of(version_id: int, record: dict):
    """The record's statutory tables in long form: one row per cell."""
    for table in ("active_disclosure", "applications", "review_litigation"):
        for row_key, columns in record.get(table, {}).items():
            if row_key == "extra" or not isinstance(columns, dict):
                continue
            for column_key, value in columns.items():
                number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
                yield {
                    "version_id": version_id,
                    "report_table": table,
                    "row_key": row_key,
                    "column_key": column_key,
                    "number": number,
                    "text": None if number is not None or value is None else str(value),
                    # an annotated cell (22（其中修订16件）) keeps its printed text here; the record has 22
                    "raw": record.get("raw_cells", {}).get(f"{table}.{row_key}.{column_key}",
                                                           None if value is None else str(value)),
                }
