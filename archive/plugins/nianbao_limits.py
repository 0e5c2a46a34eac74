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

- a row factory that counts the bytes of the values one query has returned, and stops the query
  with "result too large" past ``NIANBAO_SQL_MAX_RESULT_MB`` (default 16 MB): a thousand rows of
  3 MB blobs never reach the JSON encoder.

Arbitrary SQL (``?sql=`` on the database) runs ``NIANBAO_SQL_AT_ONCE`` (default 1) query at a time:
the others wait up to 2 s, then get 503 with Retry-After, so hostile SQL can never hold every one of
Datasette's threads and the report, agency and search pages keep answering.

What one response may return is further bounded by Datasette's settings, passed by ``archive/serve.py``:
``max_returned_rows`` rows, ``max_csv_mb`` for a streamed CSV, ``num_sql_threads`` queries at once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import weakref

from datasette import hookimpl

from archive.settings import value

# the NIANBAO_SQL_* settings are read when a connection or a query needs them (archive/settings.py), not at import
LIMITS = {
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
}


class ResultTooLarge(sqlite3.DatabaseError):
    pass


_returned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def budgeted_row(cursor, values):
    """sqlite3.Row, after adding the row's size to its query's total (a cursor is one query)."""
    size = sum(len(v) for v in values if isinstance(v, (str, bytes))) + 8 * len(values)
    total = _returned.get(cursor, (None, 0, 0))
    if total[0] is not cursor.description:  # a new statement on a reused cursor starts again, its bound read anew
        total = (cursor.description, 0, value("NIANBAO_SQL_MAX_RESULT_MB"))
    total = (total[0], total[1] + size, total[2])
    _returned[cursor] = total
    max_mb = total[2]
    if total[1] > max_mb * 1048576:
        raise ResultTooLarge(f"result too large: more than {max_mb} MB in one query "
                             f"（查询结果超过 {max_mb} MB）; select fewer rows or columns")
    return sqlite3.Row(cursor, values)


@hookimpl
def prepare_connection(conn):
    for limit, bound in {**LIMITS, sqlite3.SQLITE_LIMIT_LENGTH: value("NIANBAO_SQL_MAX_LENGTH")}.items():
        conn.setlimit(limit, bound)
    conn.execute(f"PRAGMA hard_heap_limit = {int(value('NIANBAO_SQL_HEAP_MB')) * 1024 * 1024}")
    conn.row_factory = budgeted_row


SQL_WAIT_S = 2.0


def _arbitrary_sql(scope) -> bool:
    query = scope.get("query_string", b"")
    return scope["type"] == "http" and (query.startswith(b"sql=") or b"&sql=" in query)


@hookimpl
def asgi_wrapper(datasette):
    slots = {}

    def wrap(app):
        async def one_sql_at_a_time(scope, receive, send):
            if not _arbitrary_sql(scope):
                return await app(scope, receive, send)
            loop = asyncio.get_running_loop()
            slot = slots.setdefault(loop, asyncio.Semaphore(value("NIANBAO_SQL_AT_ONCE")))
            try:
                await asyncio.wait_for(slot.acquire(), SQL_WAIT_S)
            except TimeoutError:
                body = json.dumps({"ok": False, "error": "busy: other SQL queries are running, retry in a few seconds "
                                   "（查询繁忙，请稍后重试）"}, ensure_ascii=False).encode()
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"retry-after", b"5")]})
                await send({"type": "http.response.body", "body": body})
                return
            try:
                return await app(scope, receive, send)
            finally:
                slot.release()

        return one_sql_at_a_time

    return wrap
