"""The list pages of 年报 columns as last read: their bytes and validators, so that a nightly pass can ask for them
conditionally and read a page the server answers 304 from the archive.

Table owned: list_pages (one row per URL asked by GET; the bytes live in the BlobStore and, like every fetched
page, in the WARC: a response record when they change, a revisit record when the server says they did not).
A list page is never a document of a report: it is what the crawl read to find them, kept so that the next night
need not download it again, and so that a person can see what a column listed on a given night.

A mixin of :class:`archive.store.Archive`, on the archive's one connection and its ``_write`` transactions.
"""

from __future__ import annotations

from .media import stored_media_type
from .warc import Exchange

_ROW = "SELECT url, site_id, sha256, etag, last_modified, media_type, charset, first_seen, last_seen, last_changed " \
       "FROM list_pages WHERE url = ?"


class ListPages:
    def keep_list_page(self, *, url: str, site_id: str, body: bytes, media_type: str | None, charset: str | None,
                       etag: str | None, last_modified: str | None, exchange: Exchange | None, seen: str) -> bool:
        """A list page answered in full: its bytes, WARC records and row. Whether its bytes changed.

        ``media_type`` is the server's, kept (capped) to read the page again as it was read; the blob gets the
        allow-listed type the site may serve it as (archive/media.py)."""
        media_type = media_type[:100] if media_type else None
        sync = self._batch is None
        sha256 = self.blobs.put(body, sync=sync)
        if not sync:
            self._batch.files.add(self.blobs.path(sha256))
        warc_rows = self._warc_exchange(exchange, body, sha256, url)
        with self._write():
            self._insert_many("warc_records", warc_rows)
            self._execute("INSERT OR IGNORE INTO blobs (sha256, size, media_type, first_url, stored_at) "
                          "VALUES (?, ?, ?, ?, ?)", [sha256, len(body), stored_media_type(media_type), url, seen])
            before = self._one("SELECT sha256 FROM list_pages WHERE url = ?", [url])
            changed = before is None or before["sha256"] != sha256
            self._execute(
                "INSERT INTO list_pages (url, site_id, sha256, etag, last_modified, media_type, charset, first_seen, "
                "last_seen, last_changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "site_id = excluded.site_id, sha256 = excluded.sha256, etag = excluded.etag, "
                "last_modified = excluded.last_modified, media_type = excluded.media_type, charset = excluded.charset, "
                "last_seen = excluded.last_seen, last_changed = CASE WHEN list_pages.sha256 = excluded.sha256 "
                "THEN list_pages.last_changed ELSE excluded.last_changed END",
                [url, site_id, sha256, etag, last_modified, media_type, charset, seen, seen, seen])
        return changed

    def list_page_unchanged(self, url: str, exchange: Exchange | None, seen: str) -> bool:
        """A list page the server answered 304 for: seen again (a revisit record points at the bytes kept)."""
        warc_rows = self._warc_exchange(exchange, None, None, url)
        with self._write():
            self._insert_many("warc_records", warc_rows)
            return self._execute("UPDATE list_pages SET last_seen = ? WHERE url = ?", [seen, url]).rowcount > 0

    def list_page(self, url: str) -> dict | None:
        """The list page as last read: sha256, validators, media type and charset (None if never kept)."""
        return self._one(_ROW, [url])

    def list_page_body(self, url: str) -> tuple[bytes, dict] | None:
        """The kept bytes of a list page and its row; None if it was never kept or its blob is not there."""
        row = self.list_page(url)
        if row is None:
            return None
        try:
            return self.blobs.get(row["sha256"]), row
        except OSError:  # gone, or not a regular file (archive/blobs.py): the page is asked for in full again
            return None
