"""Sites, agencies, reports, documents, their versions and blobs: what the crawl keeps of each payload.

Tables owned: sites, agencies, reports (one per agency and year; two articles claiming one are two, marked conflict_of), documents (one per URL), blobs (one per
sha256; the bytes themselves live in the BlobStore), versions (one per distinct content of a document).
A version is created only when a document's bytes change; an unchanged fetch moves its ``last_seen``. The
blob and the WARC records reach the disk before the rows that point at them are committed.

A mixin of :class:`archive.store.Archive`: it uses the archive's one connection and its ``_write``
transactions. The hot path (store_payload, touch_unchanged) sends plain prepared statements: sqlite-utils'
table helpers read the schema again on every call, which cost more than the writes themselves.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .blobs import SpooledPayload
from .media import stored_media_type
from .schema import INDEX_NUMBER
from .versions import current_version_sql
from .warc import Exchange
from .writer import DB_NAME, ArchiveWriteError, now, read_only

LATEST_VERSION_SQL = (  # A, B, then A again: A is what is served (archive/versions.py)
    "SELECT v.id, v.sha256, v.etag, v.last_modified FROM documents d JOIN versions v "
    f"ON v.id = {current_version_sql('d.id')} WHERE d.url = ?")
_INDEX_NUMBER = INDEX_NUMBER.format(metadata="d.metadata")


def split_region(region: str | None) -> dict:
    parts = (region or "").split("/")
    return {key: (parts[i] if i < len(parts) and parts[i] else None) for i, key in enumerate(("province", "city", "county"))}


def verified_sites(data_dir) -> set[str]:
    """Registry sites on which a crawl found a report (its agencies hold a report, or one of its columns
    listed one); read-only, and an empty set where there is no archive yet."""
    if not (Path(data_dir) / DB_NAME).exists():
        return set()
    with read_only(data_dir) as db:
        ids = {r[0] for r in db.execute(
            "SELECT DISTINCT a.site_id FROM reports r JOIN agencies a ON a.id = r.agency_id WHERE a.site_id IS NOT NULL")}
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "columns" in tables:  # an archive older than discovery has no columns table
            ids |= {r[0] for r in db.execute("SELECT DISTINCT site_id FROM columns WHERE reports_found > 0")}
        return ids


class DocumentStore:
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

    def ensure_report(self, agency: str | None, year: int, title: str, site: dict | None = None,
                      page_url: str | None = None, sha256: str | None = None) -> int:
        """The report of (agency, year) that ``page_url`` (the article page the identity was read from) claims,
        created once: storing it again only moves last_seen. Two different article pages claiming one identity
        are never folded into one record: the second is a report of its own, each marked ``conflict_of`` the
        other, and both are kept and exported. The same bytes at another address (a portal moved to https or to
        another port, a repost) are no second claim: ``sha256``, the claiming page's content, joins the report
        that already holds it. An agency is never None: without one the registry entry's name stands in."""
        site = site or {}
        agency = " ".join((agency or "").split()) or site.get("name") or site.get("id")
        if not agency:
            raise ValueError("a report needs an agency: none was given and the site has no name")
        seen = now()
        with self._write():
            agency_id = self._agency_id(agency, site)
            cursor = self._execute("SELECT id, page_url FROM reports WHERE agency_id = ? AND year = ? ORDER BY id",
                                   [agency_id, year])
            claims = [{"id": r[0], "page_url": r[1]} for r in cursor.fetchall()]
            same = [r for r in claims if page_url is None or r["page_url"] in (None, page_url)]
            same.sort(key=lambda r: r["page_url"] != page_url)  # the page's own claim before an unclaimed report
            if not same and sha256:
                same = self._claims_holding(claims, sha256)
            if same:
                if page_url and same[0]["page_url"] is None:
                    self._execute("UPDATE reports SET page_url = ? WHERE id = ?", [page_url, same[0]["id"]])
                self._execute("UPDATE reports SET last_seen = ? WHERE id = ?", [seen, same[0]["id"]])
                return same[0]["id"]
            report_id = self._insert("reports", {"agency_id": agency_id, "year": year, "title": title,
                                                 "page_url": page_url, "conflict_of": claims[0]["id"] if claims else None,
                                                 "first_seen": seen, "last_seen": seen})
            if claims:  # the conflict is recorded on both sides, whichever article the crawl met first
                self._execute("UPDATE reports SET conflict_of = ? WHERE id = ? AND conflict_of IS NULL",
                              [report_id, claims[0]["id"]])
            return report_id

    def _claims_holding(self, claims: list[dict], sha256: str) -> list[dict]:
        """The claims among ``claims`` one of whose documents has had these bytes (an id-ordered list, or [])."""
        ids = [claim["id"] for claim in claims]
        if not ids:
            return []
        row = self._one(f"SELECT d.report_id FROM documents d JOIN versions v ON v.document_id = d.id "
                        f"WHERE v.sha256 = ? AND d.report_id IN ({', '.join('?' * len(ids))}) "
                        "ORDER BY d.report_id LIMIT 1", [sha256, *ids])
        return [{"id": row["report_id"], "page_url": "(same bytes)"}] if row else []

    def _agency_id(self, name: str, site: dict) -> int:
        row = self._one("SELECT id FROM agencies WHERE name = ? LIMIT 1", [name])
        if row:
            return row["id"]
        return self._insert("agencies", {"name": name, "site_id": site.get("id"), "region": site.get("region"),
                                         **split_region(site.get("region"))})

    def report_of_url(self, url: str) -> int | None:
        """The report a document URL already belongs to: a re-fetch never moves it to another."""
        row = self._one("SELECT report_id FROM documents WHERE url = ?", [url])
        return row["report_id"] if row else None

    def agency_of_index_owner(self, owner: str) -> str | None:
        """The agency already archived under a 索引号 owner (the agency code before the "/" of
        ``11350503003534456T/2023-00012``): one code, one agency, whatever later titles say."""
        # the range on the indexed expression finds the candidates without reading every document; "0" is the
        # character after "/", and NOCASE folds ASCII case as LIKE does
        row = self._one(
            "SELECT a.name FROM documents d JOIN reports r ON r.id = d.report_id JOIN agencies a ON a.id = r.agency_id "
            f"WHERE {_INDEX_NUMBER} COLLATE NOCASE >= ? AND {_INDEX_NUMBER} COLLATE NOCASE < ? "
            "AND json_extract(d.metadata, '$.索引号') LIKE ? ORDER BY d.id LIMIT 1", [owner + "/", owner + "0", owner + "/%"])
        return row["name"] if row else None

    def document_metadata(self, url: str) -> dict | None:
        row = self._one("SELECT metadata FROM documents WHERE url = ?", [url])
        return json.loads(row["metadata"] or "{}") if row else None

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
        media_type = stored_media_type(media_type, fmt)  # only types on the allow-list are kept (archive/media.py)
        if isinstance(data, SpooledPayload):
            sha256, size = self.blobs.put_spooled(data, sync=sync), data.size
        else:
            sha256, size = self.blobs.put(data, sync=sync), len(data)
        if not sync:
            self._batch.files.add(self.blobs.path(sha256))
        warc_rows = self._warc_exchange(exchange, data, sha256, url)
        seen = now()
        with self._write():
            self._insert_many("warc_records", warc_rows)
            self._execute("INSERT OR IGNORE INTO blobs (sha256, size, media_type, first_url, stored_at) "
                          "VALUES (?, ?, ?, ?, ?)", [sha256, size, media_type, url, seen])
            document_id = self._document_id(report_id, url, role, fmt, title, referer, metadata, seen)
            existing = self._one("SELECT id FROM versions WHERE document_id = ? AND sha256 = ?", [document_id, sha256])
            if existing:
                self._execute("UPDATE versions SET last_seen = ?, etag = ?, last_modified = ? WHERE id = ?",
                              [seen, etag, last_modified, existing["id"]])
                return existing["id"], False
            version_id = self._insert(
                "versions", {"document_id": document_id, "sha256": sha256, "first_seen": seen, "last_seen": seen,
                             "etag": etag, "last_modified": last_modified, "extract_status": "pending"})
            return version_id, True

    def _document_id(self, report_id, url, role, fmt, title, referer, metadata, seen) -> int:
        row = self._one("SELECT id FROM documents WHERE url = ? LIMIT 1", [url])
        if row:
            self._execute("UPDATE documents SET last_seen = ? WHERE id = ?", [seen, row["id"]])
            return row["id"]
        return self._insert(
            "documents", {"report_id": report_id, "url": url, "role": role, "format": fmt, "title": title,
                          "referer": referer, "metadata": json.dumps(metadata or {}, ensure_ascii=False),
                          "first_seen": seen, "last_seen": seen})

    def touch_unchanged(self, url: str, exchange: Exchange | None = None) -> bool:
        """A fetch the server answered 304 for: the latest version was seen again."""
        warc_rows = self._warc_exchange(exchange, None, None, url)
        seen = now()
        with self._write():
            self._insert_many("warc_records", warc_rows)
            latest = self.latest_version(url)
            if latest is None:
                return False
            self._execute("UPDATE versions SET last_seen = ? WHERE id = ?", [seen, latest["id"]])
            self._execute("UPDATE documents SET last_seen = ? WHERE url = ?", [seen, url])
            return True

    def latest_version(self, url: str) -> dict | None:
        """The current version of a URL (the one seen last; the one query for it): id, sha256 and its validators."""
        return self._one(LATEST_VERSION_SQL, [url])

    def latest_body(self, url: str) -> bytes | None:
        latest = self.latest_version(url)
        return self.blobs.get(latest["sha256"]) if latest else None

    def validators(self, url: str) -> dict | None:
        latest = self.latest_version(url)
        return {"etag": latest["etag"], "last_modified": latest["last_modified"]} if latest else None
