"""Downloads that are whole and safe to open in a spreadsheet, and links built per request.

- Every request's absolute links are built from the public URL or that request's own Host
  (``archive.site_config.REQUEST_BASE``), never from state another request left behind.
- CSV (Datasette's, for tables, views and queries): a table's or view's CSV streams every row
  (``_stream=on`` unless the link asks for one page with ``_size=N`` or ``_next``); where it stops at
  ``max_csv_mb`` it says so in its last line, in Chinese and English. Cells that Excel would read as a
  formula get the usual guard (``archive.export.spreadsheet_safe``); relative ``archive_url`` cells are made
  absolute (so are they in a table's, view's or query's JSON).
- XLSX: every row of a table or view (fetched page by page, written to a temporary file and streamed), up
  to ``XLSX_MAX_ROWS``; strings are written as text, never as formulas. Where a sheet stops short (the row
  cap, or an arbitrary query's ``max_returned_rows``), its last row says so and how to get the rest.
- A query's CSV (arbitrary SQL, a canned query) that reached ``max_returned_rows`` says so in its last line.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import tempfile
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from archive.export import spreadsheet_safe
from archive.site_config import REQUEST_BASE, carries_sql, links_base, request_base
from archive.vocabulary import label

XLSX_MAX_ROWS = 100_000
_TABLE_CSV = re.compile(r"^/(?!-/)[^/]+/[^/]+\.csv$")  # a database's table, view or query, not the site's own pages
_LIMIT_NOTICE = re.compile(rb"CSV contains more than (\d+) bytes")
ARCHIVE_COLUMNS = re.compile(r"(^|\s)archive_url$")


def _base() -> str:
    return REQUEST_BASE.get() or links_base()


def absolute(value, base: str):
    return base + value if isinstance(value, str) and value.startswith("/-/blob/") else value


# ------------------------------------------------------------------ CSV

def _streamed(query: bytes) -> bytes:
    """A table's CSV link gives every row: ``_stream=on`` unless the request pages (``_next``, ``_size=N``)."""
    args = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    if "_stream" in args or "_next" in args or args.get("_size", "max") != "max" or carries_sql(query):
        return query
    return b"_stream=on" + (b"&" + query if query else b"")


class CsvGuard:
    """Rewrites a CSV stream record by record: formula cells guarded, archive links made absolute.

    Datasette writes one record per message; a message that ends inside a record waits for the rest (a
    record ends at a newline with an even number of quotes before it)."""

    def __init__(self, base: str, query_limit: int | None = None):
        # query_limit: the request is one query (arbitrary SQL, a canned query), which Datasette stops at
        # max_returned_rows rows without a word; reaching it is said in the last line
        self.base, self.pending, self.links = base, b"", None
        self.query_limit, self.rows = query_limit, 0

    def feed(self, chunk: bytes, last: bool = False) -> bytes:
        data = self.pending + chunk
        if not last and not (data.endswith(b"\n") and data.count(b'"') % 2 == 0):
            self.pending = data
            return b""
        self.pending = b""
        notice = _LIMIT_NOTICE.search(data) if last else None
        if notice:
            data = data[:notice.start()]
        out = self._records(data)
        if notice:
            size = int(notice.group(1)) // (1024 * 1024)
            out += (f"# 下载在 {size} MB 处截止，后面还有数据：请按年度、地区等筛选后分批下载，或用 JSON 的 next 链接逐页获取。"
                    f" Stopped at {size} MB: filter (by year, region, …) and download in parts, or page through "
                    f"the JSON with its next links.\r\n").encode()
        elif last and self.query_limit and self.rows >= self.query_limit:
            line = io.StringIO()  # one quoted cell: the notice holds commas
            csv.writer(line, lineterminator="\r\n").writerow([
                f"# 查询结果在 {self.rows:,} 行处截止（单次查询的上限），后面可能还有数据：请用 LIMIT/OFFSET 或更窄的条件分批查询。"
                f" Stopped at {self.rows:,} rows (one query's limit); there may be more: query in parts with "
                "LIMIT/OFFSET or narrower conditions."])
            out += line.getvalue().encode("utf-8")
        return out

    def _records(self, data: bytes) -> bytes:
        if not data:
            return b""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in csv.reader(io.StringIO(text, newline="")):
            if self.links is None:  # the header
                self.links = {i for i, name in enumerate(row) if ARCHIVE_COLUMNS.search(name.lstrip("\ufeff"))}
                writer.writerow(row)
                continue
            self.rows += 1
            writer.writerow([spreadsheet_safe(absolute(cell, self.base) if i in self.links else cell)
                             for i, cell in enumerate(row)])
        return out.getvalue().encode("utf-8")


def _one_query(datasette, scope) -> bool:
    """Whether a CSV is one query's rows (arbitrary SQL, or a canned query), not a table's or view's stream."""
    if carries_sql(scope.get("query_string", b"")):
        return True
    parts = scope["path"][1:-len(".csv")].split("/")
    if len(parts) != 2:
        return False
    database, name = parts
    return name in (datasette.metadata("queries", database=database) or {})


async def _guarded_csv(datasette, app, scope, receive, send):
    query = scope.get("query_string", b"")
    if _TABLE_CSV.match(scope["path"]):
        scope = {**scope, "query_string": _streamed(query)}
    if b"_header=off" in query or b"_trace=" in query:
        return await app(scope, receive, send)
    guard = CsvGuard(_base(), datasette.setting("max_returned_rows") if _one_query(datasette, scope) else None)

    async def guarded(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                              if k.lower() != b"content-length"]}
        elif message["type"] == "http.response.body":
            last = not message.get("more_body", False)
            message = {**message, "body": guard.feed(message.get("body", b""), last)}
        await send(message)

    return await app(scope, receive, guarded)


_BLOB_PATH = re.compile(rb'"(/-/blob/[0-9a-f]{64})"')
_TABLE_JSON = re.compile(r"^/(?!-/)[^/]+/[^/]+\.json$")


def _relative_wanted(scope) -> bool:
    """The XLSX renderer's own page requests: it makes the paths absolute for its request's base."""
    return any(k.lower() == b"x-nianbao-paths" and v == b"relative" for k, v in scope.get("headers") or [])


async def _absolute_json(app, scope, receive, send):
    """A table's, view's or query's JSON with the archive's own ``/-/blob/<sha256>`` paths made absolute."""
    base, body, start = _base().encode(), [], {}

    async def collected(message):
        if message["type"] == "http.response.start":
            start.update(message, headers=[(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"])
            return
        if message["type"] != "http.response.body":
            return await send(message)
        body.append(message.get("body", b""))
        if not message.get("more_body", False):
            await send(start)
            await send({"type": "http.response.body", "body": _BLOB_PATH.sub(b'"' + base + rb'\1"', b"".join(body))})

    return await app(scope, receive, collected)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def per_request(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            token = REQUEST_BASE.set(request_base(scope))
            try:
                if scope["path"].endswith(".csv"):
                    return await _guarded_csv(datasette, app, scope, receive, send)
                if _TABLE_JSON.match(scope["path"]) and not _relative_wanted(scope):
                    return await _absolute_json(app, scope, receive, send)
                return await app(scope, receive, send)
            finally:
                REQUEST_BASE.reset(token)

        return per_request

    return wrap


# ------------------------------------------------------------------ XLSX

class FileResponse(Response):
    """A response streamed from a temporary file, deleted once sent."""

    def __init__(self, path: str, **kwargs):
        super().__init__(b"", **kwargs)
        self.path = path

    async def asgi_send(self, send):
        headers = {**self.headers, "content-type": self.content_type, "content-length": str(os.path.getsize(self.path))}
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [[k.encode("utf-8"), v.encode("utf-8")] for k, v in headers.items()]})
        try:
            with open(self.path, "rb") as file:
                while chunk := file.read(1 << 16):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            os.unlink(self.path)


async def _table_pages(datasette, request, database: str, table: str):
    """Every row of a table or view as the request filters and sorts it, one page of JSON at a time."""
    args = [(k, v) for k in request.args.keys() for v in request.args.getlist(k)
            if k not in ("_next", "_size", "_shape", "_nocount", "_nofacet", "_labels")]
    args += [("_size", "max"), ("_nocount", "1"), ("_nofacet", "1")]
    path = datasette.urls.table(database, table, format="json")
    following = None
    while True:
        response = await datasette.client.get(path + "?" + urlencode(args + ([("_next", following)] if following else [])),
                                              headers={"x-nianbao-paths": "relative"})  # made absolute for this request
        data = response.json()
        if response.status_code != 200 or "rows" not in data:
            raise ValueError(data.get("error") or f"HTTP {response.status_code}")
        yield data["rows"]
        following = data.get("next")
        if not following:
            return


def _xlsx_value(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


class _Sheet:
    """A write-only sheet whose strings are text cells, never formulas."""

    def __init__(self, title: str, columns: list[str]):
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "sheet")
        self.links = {i for i, c in enumerate(columns) if ARCHIVE_COLUMNS.search(c)}
        self.rows = 0
        self.append([label(c) for c in columns])

    def append(self, values) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for value in values:
            cell = WriteOnlyCell(self.sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # '=HYPERLINK(…)' in a title is text
            cells.append(cell)
        self.sheet.append(cells)

    def add(self, rows, base: str) -> None:
        for row in rows:
            values = list(row.values()) if isinstance(row, dict) else list(row)
            self.append([_xlsx_value(absolute(v, base) if i in self.links else v) for i, v in enumerate(values)])
            self.rows += 1

    def save(self) -> str:
        handle, path = tempfile.mkstemp(suffix=".xlsx")
        with os.fdopen(handle, "wb") as out:
            self.book.save(out)
        return path


async def render_xlsx(datasette, columns, rows, request, query_name, table, database, data):
    """Every row the page stands for, as an Excel sheet with Chinese headers (streamed from a temporary file)."""
    base = _base()
    sheet = _Sheet(table or query_name or "query", columns)
    stopped = None
    if table and not carries_sql(request.scope.get("query_string", b"")):
        async for page in _table_pages(datasette, request, database, table):
            room = XLSX_MAX_ROWS - sheet.rows
            await asyncio.to_thread(sheet.add, page[:room], base)
            if len(page) > room:
                stopped = (f"表格在 {XLSX_MAX_ROWS:,} 行处截止：完整数据请下载 CSV（逐行流式输出），或按年度、地区筛选后分批下载。"
                           f" Stopped at {XLSX_MAX_ROWS:,} rows: download the CSV (streamed) for every row, or filter "
                           "and download in parts.")
                break
    else:  # one query's rows: Datasette returns at most max_returned_rows of them
        await asyncio.to_thread(sheet.add, rows, base)
        if (data or {}).get("truncated") or (data or {}).get("next"):
            stopped = (f"结果在 {sheet.rows:,} 行处截止（单次查询的上限）：请用 LIMIT/OFFSET 或更窄的条件分批查询。"
                       f" Stopped at {sheet.rows:,} rows (one query's limit): use LIMIT/OFFSET or narrower "
                       "conditions to get the rest.")
    if stopped:
        sheet.append([stopped])
    path = await asyncio.to_thread(sheet.save)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", table or query_name or "query") + ".xlsx"
    headers = {"Content-Disposition": f"attachment; filename=\"{name}\""}
    if stopped:
        headers["X-Nianbao-Stopped"] = f"rows={sheet.rows}"
    return FileResponse(path, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers=headers)


@hookimpl
def register_output_renderer(datasette):
    return {"extension": "xlsx", "render": render_xlsx, "can_render": lambda columns: bool(columns)}
