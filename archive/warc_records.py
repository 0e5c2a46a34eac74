"""Where each fetch sits in the run's WARC file. Table owned: warc_records.

A mixin of :class:`archive.store.Archive`. Every fetch becomes a request and a response record, or a revisit
record pointing at the original response when the payload is already held or the server answered 304. The
records are written (and, outside grouped writes, fsynced) before the rows that point at them are committed;
a record a crash cut short is truncated away by ``repair_warcs`` before the next run writes.
"""

from __future__ import annotations

import re

from .blobs import SpooledPayload
from .warc import IDENTICAL, NOT_MODIFIED, Exchange, WarcFile, _warc_date, payload_digest, truncate_to
from .writer import ArchiveBusy, holds_writer_lock

_RUN_WARC = re.compile(r"nianbao-(\d+)\.warc\.gz")


class WarcRecords:
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

    def _cut_warc_to_committed(self) -> None:
        """Close this run's WARC and cut it back to its last committed record (a storage failure: what the
        failed group wrote is nobody's, and a record cut short would break the file for every reader)."""
        path = self.warc.path
        try:
            self.warc.close()
        except OSError:  # the last buffered bytes could not be written: they are cut below anyway
            pass
        self.warc = None
        end = self.db.execute(
            "SELECT max(offset + length) FROM warc_records WHERE filename = ?", [path.name]).fetchone()[0] or 0
        truncate_to(path, end)

    def _original(self, column: str, value: str) -> dict | None:
        """The first response record of a URL or of a payload: what a revisit record refers to."""
        return self._one(f"SELECT * FROM warc_records WHERE {column} = ? AND record_type = 'response' "
                         "ORDER BY id LIMIT 1", [value])

    def _warc_exchange(self, exchange: Exchange, data: bytes | SpooledPayload | None, sha256: str | None,
                       url: str) -> list[dict]:
        """Write the exchange's records; return the rows that will point at them."""
        if self.warc is None or exchange is None:
            return []
        date = _warc_date(exchange.fetched_at)
        if data is None:  # 304: the server says the archived payload still stands
            original = self._original("url", url)
            if original is None:
                return []
            where = self.warc.revisit(exchange, None, original, NOT_MODIFIED)
            kind, profile, digest, refers = "revisit", NOT_MODIFIED, original["payload_digest"], original["record_id"]
            sha256 = original["payload_sha256"]
        else:
            digest = data.warc_digest if isinstance(data, SpooledPayload) else payload_digest(data)
            original = self._original("payload_sha256", sha256)
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
