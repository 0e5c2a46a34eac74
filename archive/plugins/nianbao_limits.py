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

Arbitrary SQL, whichever parameter carries it (``sql``, ``_where``; ``archive.site_config.SQL_PARAMETERS``),
decoded exactly as Datasette decodes it (``%73ql=`` is ``sql=``), takes one path: ``NIANBAO_SQL_AT_ONCE``
(default 1) request at a time; the others wait up to 2 s, then get 503 with Retry-After, so hostile SQL can
never hold every one of Datasette's threads and the report, agency and search pages keep answering. A
``_where`` table page on that path runs its one query only (no count, no facets), so it stops at the one
time limit (``sql_time_limit_ms``, ``NIANBAO_SQL_TIME_LIMIT_MS``) instead of several in a row.

Every limit is read from the environment when it is applied (``archive.site_config.sql_limits``).

What one response may return is further bounded by Datasette's settings, passed by ``archive/serve.py``:
``max_returned_rows`` rows, ``max_csv_mb`` for a streamed CSV, ``num_sql_threads`` queries at once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import traceback
import weakref

import datasette.handle_exception as datasette_errors
from datasette import hookimpl
from datasette.utils.asgi import Base400

from archive.site_config import carries_sql, sql_limits


def _limits(max_length: int) -> dict:
    return {
        sqlite3.SQLITE_LIMIT_LENGTH: max_length,
        sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
        sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
        sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
        sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    }


# Datasette prints every error (a 404, a query over its time limit) as a rich traceback with its locals: over a
# second of CPU each, which an attacker can ask for in a loop, and request data in the log. Off; server errors
# are still logged, plainly (`handle_exception` below).
datasette_errors.rich = None


@hookimpl
def handle_exception(datasette, request, exception):
    """Log a server error (not a refused or bad request) with its traceback; the page itself is left to others."""
    if not isinstance(exception, Base400) and getattr(exception, "status", 500) >= 500:
        traceback.print_exception(exception, file=sys.stderr)
    return None


class ResultTooLarge(sqlite3.DatabaseError):
    pass


_returned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def budgeted(max_result: int):
    """A row factory: sqlite3.Row, after adding the row's size to its query's total (a cursor is one query)."""

    def budgeted_row(cursor, values):
        size = sum(len(v) for v in values if isinstance(v, (str, bytes))) + 8 * len(values)
        total = _returned.get(cursor, (None, 0))
        if total[0] is not cursor.description:  # a new statement on a reused cursor starts again
            total = (cursor.description, 0)
        total = (total[0], total[1] + size)
        _returned[cursor] = total
        if total[1] > max_result:
            raise ResultTooLarge(f"result too large: more than {max_result // 1048576} MB in one query "
                                 f"（查询结果超过 {max_result // 1048576} MB）; select fewer rows or columns")
        return sqlite3.Row(cursor, values)

    return budgeted_row


@hookimpl
def prepare_connection(conn):
    limits = sql_limits()
    for limit, value in _limits(limits.max_length).items():
        conn.setlimit(limit, value)
    conn.execute(f"PRAGMA hard_heap_limit = {limits.heap_bytes}")
    conn.row_factory = budgeted(limits.max_result)


def _arbitrary_sql(scope) -> bool:
    return scope["type"] == "http" and carries_sql(scope.get("query_string", b""))


def _one_query(scope) -> dict:
    """The same request with Datasette's extra queries (the count, the facets) turned off: placed first, these
    win over any value the request gives."""
    return {**scope, "query_string": b"_nocount=1&_nofacet=1&" + scope.get("query_string", b"")}


@hookimpl
def asgi_wrapper(datasette):
    slots = {}

    def wrap(app):
        async def one_sql_at_a_time(scope, receive, send):
            if not _arbitrary_sql(scope):
                return await app(scope, receive, send)
            limits = sql_limits()
            loop = asyncio.get_running_loop()
            slot = slots.setdefault((loop, limits.at_once), asyncio.Semaphore(limits.at_once))
            try:
                await asyncio.wait_for(slot.acquire(), limits.wait_s)
            except TimeoutError:
                body = json.dumps({"ok": False, "error": "busy: other SQL queries are running, retry in a few seconds "
                                   "（查询繁忙，请稍后重试）"}, ensure_ascii=False).encode()
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"retry-after", b"5")]})
                await send({"type": "http.response.body", "body": body})
                return
            try:
                return await app(_one_query(scope), receive, send)
            finally:
                slot.release()

        return one_sql_at_a_time

    return wrap
