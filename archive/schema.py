"""The database shape, declared once and applied idempotently (with numbered migrations).

Tables: sites, agencies, reports (one per agency and year; two articles claiming one are two, marked conflict_of), documents (each URL that
carries a report), blobs, versions (each distinct content of a document), cells (the
parsed figures in long form), checks, version_changes and cell_changes (what a new
version changed), warc_records (where each fetch sits in the WARC files), fetches
(the fetch log) and runs; columns (the 年报 columns discovery found on a portal, kept when
they vanish) and discoveries (each walk of a portal's navigation); list_pages (each column's list pages as
last read, for the nightly pass's conditional requests).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlite_utils

TABLES = {
    "sites": (
        {"id": str, "name": str, "region": str, "province": str, "city": str, "county": str, "cms": str,
         "start_urls": str},
        {"pk": "id"},
    ),
    "agencies": (
        {"id": int, "name": str, "site_id": str, "region": str, "province": str, "city": str, "county": str},
        {"pk": "id", "foreign_keys": [("site_id", "sites", "id")]},
    ),
    "reports": (
        {"id": int, "agency_id": int, "year": int, "title": str, "template": str, "published": str,
         "source_version_id": int, "source_reason": str, "check_status": str, "first_seen": str, "last_seen": str,
         "page_url": str, "conflict_of": int},
        {"pk": "id", "foreign_keys": [("agency_id", "agencies", "id")]},
    ),
    "documents": (
        {"id": int, "report_id": int, "url": str, "role": str, "format": str, "title": str, "referer": str,
         "metadata": str, "first_seen": str, "last_seen": str},
        {"pk": "id", "foreign_keys": [("report_id", "reports", "id")]},
    ),
    "blobs": (
        {"sha256": str, "size": int, "media_type": str, "first_url": str, "stored_at": str},
        {"pk": "sha256"},
    ),
    "versions": (
        {"id": int, "document_id": int, "sha256": str, "first_seen": str, "last_seen": str, "etag": str,
         "last_modified": str, "extract_status": str, "extract_error": str, "parser_version": str,
         "extracted_at": str, "template": str, "record": str, "text": str},
        {"pk": "id", "foreign_keys": [("document_id", "documents", "id"), ("sha256", "blobs", "sha256")]},
    ),
    "cells": (
        {"version_id": int, "report_table": str, "row_key": str, "column_key": str, "number": int, "text": str,
         "raw": str},
        {"foreign_keys": [("version_id", "versions", "id")]},
    ),
    "checks": (
        {"version_id": int, "check_id": str, "scope": str, "status": str, "expected": int, "actual": int,
         "detail": str},
        {"foreign_keys": [("version_id", "versions", "id")]},
    ),
    "runs": (
        {"id": int, "started": str, "finished": str, "command": str, "sites": str, "status": str, "stats": str},
        {"pk": "id"},
    ),
    "warc_records": (
        {"id": int, "run_id": int, "filename": str, "offset": int, "length": int, "record_id": str,
         "record_type": str, "profile": str, "url": str, "date": str, "payload_sha256": str, "payload_digest": str,
         "refers_to": str, "concurrent_to": str},
        {"pk": "id", "foreign_keys": [("run_id", "runs", "id")]},
    ),
    "version_changes": (
        {"version_id": int, "previous_version_id": int, "cells_changed": int, "text_diff": str},
        {"pk": "version_id", "foreign_keys": [("version_id", "versions", "id"), ("previous_version_id", "versions", "id")]},
    ),
    "cell_changes": (
        {"version_id": int, "report_table": str, "row_key": str, "column_key": str, "old": str, "new": str},
        {"foreign_keys": [("version_id", "versions", "id")]},
    ),
    "run_sites": (
        {"run_id": int, "site_id": str, "reports_found": int, "new_reports": int, "new_versions": int,
         "unchanged": int, "failed": int, "blocked": int, "skipped": int, "partial_reports": int, "known": int},
        {"pk": ("run_id", "site_id"), "foreign_keys": [("run_id", "runs", "id")]},
    ),
    "fetches": (
        {"id": int, "run_id": int, "site_id": str, "url": str, "status": int, "fetched_at": str, "bytes": int,
         "sha256": str, "etag": str, "last_modified": str, "referer": str, "outcome": str, "reason": str},
        {"pk": "id", "foreign_keys": [("run_id", "runs", "id")]},
    ),
    "columns": (
        {"id": int, "site_id": str, "url": str, "title": str, "agency": str, "link_path": str, "evidence": str,
         "status": str, "first_seen": str, "last_seen": str, "vanished_since": str, "reports_found": int,
         "run_id": int},
        {"pk": "id", "foreign_keys": [("site_id", "sites", "id")]},
    ),
    "list_pages": (
        {"url": str, "site_id": str, "sha256": str, "etag": str, "last_modified": str, "media_type": str,
         "charset": str, "first_seen": str, "last_seen": str, "last_changed": str},
        {"pk": "url", "foreign_keys": [("sha256", "blobs", "sha256")]},
    ),
    "discoveries": (
        {"id": int, "site_id": str, "run_id": int, "started": str, "finished": str, "pages": int,
         "columns_found": int, "outcome": str, "detail": str},
        {"pk": "id", "foreign_keys": [("site_id", "sites", "id"), ("run_id", "runs", "id")]},
    ),
}

UNIQUE_INDEXES = [
    ("reports", ["agency_id", "year"]),
    ("agencies", ["name"]),
    ("documents", ["url"]),
    ("versions", ["document_id", "sha256"]),
    ("columns", ["url"]),
]
INDEXES = [
    ("agencies", ["site_id"]),
    ("agencies", ["province"]),
    ("reports", ["year"]),
    ("reports", ["template"]),
    ("reports", ["check_status"]),
    ("documents", ["report_id"]),
    ("versions", ["sha256"]),
    ("versions", ["extract_status"]),
    ("cells", ["version_id"]),
    ("cells", ["report_table", "row_key", "column_key"]),
    ("checks", ["version_id"]),
    ("checks", ["status"]),
    ("fetches", ["run_id"]),
    ("warc_records", ["payload_sha256"]),
    ("warc_records", ["url"]),
    ("warc_records", ["filename"]),
    ("cell_changes", ["version_id"]),
    ("fetches", ["url"]),
    ("fetches", ["outcome"]),
    ("columns", ["site_id"]),
    ("discoveries", ["site_id"]),
]

# The 索引号 (index number) an article page printed, as documents.metadata holds it: the crawl asks, for every
# article, which agency an index-number owner already belongs to (archive/documents.py), so it is indexed;
# json_valid keeps a malformed metadata value from failing the write.
INDEX_NUMBER = "(CASE WHEN json_valid({metadata}) THEN json_extract({metadata}, '$.索引号') END)"
EXPRESSION_INDEXES = {
    "idx_documents_index_number": ("documents", INDEX_NUMBER.format(metadata="metadata") + " COLLATE NOCASE"),
}
# A request that got no usable answer and may get one another night (a server error, a block, a network failure,
# a body the disk refused; a 404 waits for the rotation). A nightly run asks again at once for a known report whose
# last visit met one on its page or a file it links (archive/fetchlog.py), so these failures are indexed by the page
# that linked them; the condition is spelt once, the partial index's own, so that SQLite's planner uses the index.
RETRYABLE = ("(outcome IN ('blocked', 'timeout', 'dns_error', 'tls_error', 'connection_refused', 'connection_lost', "
             "'error', 'store_failed') OR (outcome = 'http_error' AND (status >= 500 OR status = 429)))")
PARTIAL_INDEXES = {
    "idx_fetches_retryable_referer": ("fetches", "referer", RETRYABLE),
}

# INTEGER affinity: whole figures stay integers, 13.75 stays a real.
# One row per report with its main figures, from the version its figures came from; archive_url is the site's
# path of that version's archived bytes (the site and exports make it absolute).
_FIGURE = "(SELECT number FROM cells c WHERE c.version_id = r.source_version_id AND c.report_table = '{t}' " \
          "AND c.row_key = '{r}' AND c.column_key = '{c}')"
_FIGURES = {
    "applications_received": ("applications", "new_received", "total"),
    "carried_over": ("applications", "carried_over", "total"),
    "granted": ("applications", "granted", "total"),
    "total_processed": ("applications", "total_processed", "total"),
    "carried_forward": ("applications", "carried_forward", "total"),
    "review_total": ("review_litigation", "review", "total"),
    "litigation_direct_total": ("review_litigation", "litigation_direct", "total"),
    "litigation_after_review_total": ("review_litigation", "litigation_after_review", "total"),
}
VIEWS = {
    "report_figures": "SELECT r.id AS report_id, a.name AS agency, a.province, a.city, a.county, r.year, r.template, "
    "r.title, r.published, r.check_status, "
    + ", ".join(f"{_FIGURE.format(t=t, r=row, c=c)} AS {name}" for name, (t, row, c) in _FIGURES.items())
    + ", (SELECT url FROM documents d JOIN versions v ON v.document_id = d.id WHERE v.id = r.source_version_id) "
    "AS source_url, (SELECT '/-/blob/' || v.sha256 FROM versions v WHERE v.id = r.source_version_id) AS archive_url, "
    "r.first_seen, r.last_seen FROM reports r JOIN agencies a ON a.id = r.agency_id",
}

def _runs_summary(db) -> None:
    """The nightly run's summary (per site and total), beside Scrapy's raw stats."""
    if "summary" not in db["runs"].columns_dict:
        db["runs"].add_column("summary", str)


def _reports_claimed_by_page(db) -> None:
    """Two documents claiming one (agency, year) are two reports, the later one marked ``conflict_of`` the first:
    the identity is no longer unique, and each report remembers the article page that claimed it."""
    for column in ("page_url", "conflict_of"):
        if column not in db["reports"].columns_dict:
            db["reports"].add_column(column, int if column == "conflict_of" else str)
    unique = [i for i in db["reports"].indexes if i.columns == ["agency_id", "year"] and i.unique]
    for index in unique:
        db.execute(f"DROP INDEX {index.name}")
    db["reports"].create_index(["agency_id", "year"], if_not_exists=True)


def _run_sites_partial(db) -> None:
    """Reports whose figures left out rows of their tables, per site and run."""
    if "partial_reports" not in db["run_sites"].columns_dict:
        db["run_sites"].add_column("partial_reports", int)


def _run_sites_known(db) -> None:
    """Known reports a run did not ask for again (not their night to be re-checked), per site and run."""
    if "known" not in db["run_sites"].columns_dict:
        db["run_sites"].add_column("known", int)


# Numbered, append-only: a migration runs once, on databases older than its number.
MIGRATIONS: list = [_runs_summary, _reports_claimed_by_page, _run_sites_partial, _run_sites_known]


def apply(db: sqlite_utils.Database) -> None:
    """Create what is missing; never drop or rewrite data."""
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    for name, (columns, options) in TABLES.items():
        if not db[name].exists():
            db[name].create(columns, **options)
    for table, cols in UNIQUE_INDEXES:
        db[table].create_index(cols, unique=True, if_not_exists=True)
    for table, cols in INDEXES:
        db[table].create_index(cols, if_not_exists=True)
    for name, (table, expression) in EXPRESSION_INDEXES.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({expression})")
    for name, (table, column, condition) in PARTIAL_INDEXES.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column}) WHERE {condition}")
    for name, sql in VIEWS.items():
        db.create_view(name, sql, replace=True)
    _migrate(db)


def _migrate(db: sqlite_utils.Database) -> None:
    if not db["schema_migrations"].exists():
        db["schema_migrations"].create({"number": int, "applied": str}, pk="number")
    done = {row["number"] for row in db["schema_migrations"].rows}
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number not in done:
            migration(db)
            db["schema_migrations"].insert({"number": number, "applied": datetime.now(UTC).isoformat()})
