"""Bounds on what one anonymous query can make the public site allocate or send.

Datasette's ``sql_time_limit_ms`` only interrupts between SQLite instructions, so a single
``randomblob(1000000000)`` runs to the end and returns a gigabyte. Here every connection
Datasette opens gets:

- ``SQLITE_LIMIT_LENGTH``: no string or blob (and no row SQLite builds) longer than
  ``NIANBAO_SQL_MAX_LENGTH`` bytes (default 4 MB; the longest report text is ~100 KB);
- ``SQLITE_LIMIT_SQL_LENGTH`` and ``SQLITE_LIMIT_EXPR_DEPTH`` / ``COMPOUND_SELECT``: no
  megabyte of SQL, no expression nested a thousand deep;
- ``PRAGMA hard_heap_limit``: SQLite's own heap in the server process never grows past
  ``NIANBAO_SQL_HEAP_MB`` (default 256 MB); a query that would, fails with "out of memory".

What one response may return is bounded by Datasette's settings, passed by ``archive/serve.py``:
``max_returned_rows`` rows, ``max_csv_mb`` for CSV, and this length limit per value.
"""

from __future__ import annotations

import os
import sqlite3

from datasette import hookimpl

MAX_LENGTH = int(os.environ.get("NIANBAO_SQL_MAX_LENGTH", 4_000_000))
HEAP_BYTES = int(os.environ.get("NIANBAO_SQL_HEAP_MB", 256)) * 1024 * 1024
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_LENGTH,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
}


@hookimpl
def prepare_connection(conn):
    for limit, value in LIMITS.items():
        conn.setlimit(limit, value)
    conn.execute(f"PRAGMA hard_heap_limit = {HEAP_BYTES}")
