"""The archive's own pages in Datasette: the report as the hub, agencies, regions, search, originals.

Routes (HTML, and JSON where it says so; see "JSON API" in the README):
- ``/-/report/<id>`` (``.json``): the report page: its form with failed cells marked, the agency's other
  years with the change from the year before, prose sections, revisions with their diff, every document;
- ``/-/agency/<id>`` (``.json``): one agency over the years, with carry-over continuity;
  ``/-/agency?q=…``: agencies whose name holds any part of ``q``;
- ``/-/region`` (``.json``): province → city → county drill-down;
- ``/-/search`` (``.json``, ``.atom``): ranked Chinese search with filters, sorting and paging;
- ``/-/feed.atom``: new and revised reports, one entry per report;
- ``/-/blob/<sha256>``: an archived original under its own cleaned name, inline only if it is a PDF, office file or
  raster image (archive/media.py), always sandboxed (``?download=1`` to save);
- ``/-/nianbao.css``: the site's stylesheet.

Every cell that names a report anywhere in Datasette links to its page (``render_cell``).
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from urllib.parse import quote, urlencode

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, BadRequest, NotFound, Response
from markupsafe import Markup, escape

from archive import site
from archive.charts import agency_chart
from archive.media import BLOB_POLICY, HEAD_BYTES, shown_inline
from archive.search import PAGE, SORTS, Filters, search_page
from archive.site_config import REQUEST_BASE, links_base
from archive.vocabulary import LABELS, label

DB = "nianbao"
PAGE_SIZES = (10, 20, 50, 100)
HERE = Path(__file__).resolve().parent
CSS = (HERE.parent / "templates" / "nianbao.css").read_text("utf-8")
SQLITE_MAX = 2**63 - 1


def _db(datasette):
    return datasette.get_database(DB)


def _int(value) -> int | None:
    """A whole number from the URL; None when there is none; 400 when it is too large for SQLite."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    if number is not None and abs(number) > SQLITE_MAX:
        raise BadRequest(f"数字过大 · Number too large: {str(value)[:40]}")
    return number


def _id(request) -> int | None:
    """A record's number from the path; too large for SQLite means there is no such record (404)."""
    try:
        return _int(request.url_vars.get("id"))
    except BadRequest:
        raise NotFound(f"没有这个编号 · No such record: {request.url_vars['id'][:40]}") from None


def _arg(request, name, limit=100) -> str | None:
    return (request.args.get(name) or "").strip()[:limit] or None


async def _html(datasette, request, template, context, status=200):
    return Response.html(await datasette.render_template(template, context, request=request), status=status)


def _json(data) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), content_type="application/json; charset=utf-8",
                    headers={"Access-Control-Allow-Origin": "*"})


def public(path: str) -> str:
    """An absolute link for this request (or, outside one, for the configured or served address)."""
    return (REQUEST_BASE.get() or links_base()) + path


# ------------------------------------------------------------------ report, agency, region

async def report_page(datasette, request):
    report_id = _id(request)
    context = await _db(datasette).execute_fn(lambda conn: site.report(conn, report_id))
    if context is None:
        raise NotFound(f"没有编号为 {report_id} 的年报 · No report {report_id}")
    if request.url_vars.get("format") == "json":
        return _json(report_json(context))
    record = context["record"]
    from archive.form import grids, rows_of

    context["tables"] = ([(heading, rows_of(grid)) for heading, grid in grids(record)]
                         if record and record.get("template") in ("2019", "2021") else [])
    context["chart"] = agency_chart(context["history"])
    context["figures"] = site.MAIN_FIGURES
    return await _html(datasette, request, "report.html", context)


def report_json(context: dict) -> dict:
    report = context["report"]
    return {
        "report": {**report, "revised": bool(report["revised"]), "url": public(f"/-/report/{report['id']}")},
        "record": context["record"],
        "checks": context["checks"],
        "years": [{k: v for k, v in h.items()} | {"url": public(f"/-/report/{h['report_id']}")}
                  for h in context["history"]],
        "documents": [{**{k: v for k, v in d.items() if k != "versions"},
                       "versions": [{**{k: v for k, v in v.items() if k != "diff_lines"},
                                     "archive_url": public(f"/-/blob/{v['sha256']}")} for v in d["versions"]]}
                      for d in context["documents"]],
    }


async def agency_page(datasette, request):
    agency_id = _id(request)
    db = _db(datasette)
    if agency_id is None:  # the lookup
        q = _arg(request, "q")
        found = await db.execute_fn(lambda conn: site.agency_lookup(conn, q))
        if request.url_vars.get("format") == "json":
            return _json({"q": q, "agencies": found})
        return await _html(datasette, request, "agency_lookup.html", {"q": q, "agencies": found})
    context = await db.execute_fn(lambda conn: site.agency(conn, agency_id))
    if context is None:
        raise NotFound(f"没有编号为 {agency_id} 的机关 · No agency {agency_id}")
    if request.url_vars.get("format") == "json":
        return _json({**context, "history": [{**h, "url": public(f"/-/report/{h['report_id']}")}
                                             for h in context["history"]]})
    context["chart"] = agency_chart(context["history"])
    context["figures"] = site.MAIN_FIGURES
    return await _html(datasette, request, "agency.html", context)


async def region_page(datasette, request):
    chosen = [_arg(request, level) for level in site.LEVELS]
    context = await _db(datasette).execute_fn(lambda conn: site.region(conn, *chosen))
    if request.url_vars.get("format") == "json":
        return _json(context)
    context["chart"] = agency_chart(context["history"])
    return await _html(datasette, request, "region.html", context)


# ------------------------------------------------------------------ search

def _filters(request) -> Filters:
    return Filters(year=_int(request.args.get("year")), province=_arg(request, "province"), city=_arg(request, "city"),
                   template=_arg(request, "template"), check_status=_arg(request, "check_status"))


async def search_route(datasette, request):
    q = _arg(request, "q", 200) or ""
    filters, sort = _filters(request), request.args.get("sort") if request.args.get("sort") in SORTS else "relevance"
    page = max(_int(request.args.get("page")) or 1, 1)
    size = _int(request.args.get("size")) if _int(request.args.get("size")) in PAGE_SIZES else PAGE
    fmt = request.url_vars.get("format")
    db = _db(datasette)
    if fmt == "atom":
        sort, page = "newest", 1
    results = await db.execute_fn(lambda conn: search_page(conn, q, filters, sort, page, size)) if q else None
    if fmt == "json":
        return _json({"q": q, "filters": vars(filters), "sort": sort, "page": page, "page_size": size,
                      "total": results.total if results else 0, "total_capped": bool(results and results.capped),
                      "rows": [{**r, "url": public(f"/-/report/{r['report_id']}")} for r in (results.rows if results else [])]})
    if fmt == "atom":
        return search_feed(request, q, results)
    options = await db.execute_fn(_search_options)
    pages = math.ceil(results.total / size) if results else 0
    if results and results.capped:  # counted to the cap: there are more pages than the count says
        pages += 1 if page >= pages else 0
        pages = max(pages, page + 1)

    current = {k: request.args.get(k) for k in request.args.keys() if request.args.get(k)}

    def page_url(n, **change):
        args = {k: v for k, v in current.items() if k != "page"} | change | ({"page": n} if n > 1 else {})
        return "/-/search?" + urlencode(args)

    return await _html(datasette, request, "search.html", {
        "q": q, "results": results, "filters": vars(filters), "sort": sort, "page": page, "pages": pages,
        "page_url": page_url, "sort_url": lambda s: page_url(1, sort=s), "size": size, "sizes": PAGE_SIZES,
        "size_url": lambda n: page_url(1, size=n),
        "atom_url": "/-/search.atom?" + urlencode({"q": q}), **options})


def _search_options(conn) -> dict:
    def column(sql):
        return [r[0] for r in conn.execute(sql)]

    return {
        "years": column("SELECT DISTINCT year FROM search_reports WHERE is_latest ORDER BY year DESC"),
        "provinces": column("SELECT DISTINCT province FROM search_reports WHERE province IS NOT NULL ORDER BY 1"),
        "cities": column("SELECT DISTINCT city FROM search_reports WHERE city IS NOT NULL ORDER BY 1"),
        "templates": column("SELECT DISTINCT template FROM search_reports WHERE template IS NOT NULL ORDER BY 1"),
        "statuses": column("SELECT DISTINCT check_status FROM search_reports WHERE check_status IS NOT NULL ORDER BY 1"),
    }


def atom(title: str, self_url: str, entries: list[dict]) -> Response:
    """An Atom feed with absolute links; `entries` carry id, title, updated, link, summary."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title)
    feed.link(href=self_url, rel="self")
    feed.link(href=public("/"), rel="alternate")
    feed.updated(max((e["updated"] for e in entries), default="1970-01-01T00:00:00+00:00"))
    for e in reversed(entries):  # feedgen prepends
        entry = feed.add_entry()
        entry.id(e["id"])
        entry.title(e["title"])
        entry.updated(e["updated"])
        entry.link(href=e["link"])
        entry.summary(e["summary"])
    return Response(feed.atom_str(pretty=True), content_type="application/atom+xml; charset=utf-8")


def _timestamp(value: str | None) -> str:
    value = value or "1970-01-01T00:00:00"
    return value if "+" in value[10:] or value.endswith("Z") else value + "+00:00"


def search_feed(request, q: str, results) -> Response:
    """A saved search: the newest reports holding the terms, so a reader hears of a new one."""
    entries = [{"id": public(f"/-/report/{r['report_id']}"), "title": f"{r['title']} · {r['agency']} {r['year']}",
                "updated": _timestamp(r["report_first_seen"]), "link": public(f"/-/report/{r['report_id']}"),
                "summary": ("（旧版本 earlier version）" if r["earlier_version"] else "")
                + str(Markup(r["snippet"]).striptags())}
               for r in (results.rows if results else [])]
    return atom(f"“{q}” · 政府信息公开年报检索 nianbao", public("/-/search.atom?" + urlencode({"q": q})), entries)


async def feed_route(datasette, request):
    rows = (await _db(datasette).execute(
        f"SELECT r.id, r.title, a.name AS agency, r.year, max(v.first_seen) AS updated, {site.VERSIONS} AS versions "
        "FROM reports r JOIN agencies a ON a.id = r.agency_id JOIN documents d ON d.report_id = r.id "
        "JOIN versions v ON v.document_id = d.id "
        "GROUP BY r.id ORDER BY updated DESC, r.id DESC LIMIT 100")).rows
    entries = [{"id": public(f"/-/report/{r['id']}"),
                "title": r["title"] + (f"（已修订 revised, {r['versions']} 个版本 versions）" if r["versions"] > 1 else ""),
                "updated": _timestamp(r["updated"]), "link": public(f"/-/report/{r['id']}"),
                "summary": f"{r['agency']} {r['year']}"} for r in rows]
    return atom("新收录与已修订的年报 · New and revised reports", public("/-/feed.atom"), entries)


# ------------------------------------------------------------------ originals

def blob_path(db_path: str, sha256: str) -> Path | None:
    """The blob's file, if it is a regular file (not a symlink) inside the archive's blob store."""
    folder = Path(db_path).parent
    if folder.name == "published":  # a nightly run's published copy sits beside the archive
        folder = folder.parent
    store = folder / "blobs"
    path = store / sha256[:2] / sha256[2:4] / sha256
    try:
        mode = os.lstat(path).st_mode
        real = path.resolve(strict=True)
        inside = real.is_relative_to(store.resolve(strict=True))
    except OSError:
        return None
    if not stat.S_ISREG(mode) or not inside or any(p.is_symlink() for p in (path.parent, path.parent.parent)):
        return None
    return path


async def blob(datasette, request):
    sha256 = request.url_vars["sha256"]
    db = _db(datasette)
    info = await db.execute_fn(lambda conn: site.blob_info(conn, sha256))
    path = blob_path(db.path, sha256) if info else None
    if path is None:
        raise NotFound("存档中没有这个文件 · Not in the archive")
    media_type = info["media_type"]  # from the allow-list (archive/media.py)
    with open(path, "rb") as file:
        head = file.read(HEAD_BYTES)
    inline = shown_inline(media_type, head) and not request.args.get("download")
    name = info["file_name"]
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    headers = {"Content-Disposition": f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; "
                                      f"filename*=UTF-8''{quote(name, safe='')}",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=31536000, immutable",
               # nothing in an archived file ever runs on the site's origin, whatever a browser makes of it
               "Content-Security-Policy": BLOB_POLICY}
    return AsgiFileDownload(path, content_type=media_type, headers=headers)  # streamed, never read whole


async def home_page(datasette, request):
    """The home page for people, from one read of the archive (Datasette's own index counts every table)."""
    return await _html(datasette, request, "index.html", {"home": await _db(datasette).execute_fn(site.home)})


async def stylesheet(datasette, request):
    return Response(CSS, content_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=600"})


@hookimpl
def register_routes():
    return [
        (r"^/$", home_page),
        (r"^/-/search(\.(?P<format>json|atom))?$", search_route),
        (r"^/-/report/(?P<id>\d+)(\.(?P<format>json))?$", report_page),
        (r"^/-/agency(/(?P<id>\d+))?(\.(?P<format>json))?$", agency_page),
        (r"^/-/blob/(?P<sha256>[0-9a-f]{64})$", blob),
        (r"^/-/region(\.(?P<format>json))?$", region_page),
        (r"^/-/feed\.atom$", feed_route),
        (r"^/-/nianbao\.css$", stylesheet),
    ]


# ------------------------------------------------------------------ cells in Datasette's own tables

REPORT_ID_COLUMNS = {"report_id", "报告编号 report_id"}
SUMMARIES = {("versions", "record"), ("versions", "text"), ("runs", "stats"), ("runs", "summary"),
             ("version_changes", "text_diff"), ("runs", "sites")}


def _link(href: str, text) -> Markup:
    return Markup(f'<a href="{escape(href)}">{escape(text)}</a>')


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if value is None or database != DB:
        return None
    keys = row.keys() if hasattr(row, "keys") else []
    if column in REPORT_ID_COLUMNS or column == "report_page" or (table == "reports" and column == "id"):
        report_id = str(value).rsplit("/", 1)[-1]
        if report_id.isdigit():
            return _link(f"/-/report/{report_id}", f"年报 {report_id}" if column != "id" else report_id)
    if column in ("title", "agency", "atom_title") and "report_id" in keys and str(row["report_id"]).isdigit():
        return _link(f"/-/report/{row['report_id']}", value)
    if table == "reports" and column == "title" and "id" in keys:
        return _link(f"/-/report/{row['id']}", value)
    if table == "agencies" and column == "name" and "id" in keys:
        return _link(f"/-/agency/{row['id']}", value)
    if column in ("sha256", "payload_sha256") and isinstance(value, str) and len(value) == 64:
        return _link(f"/-/blob/{value}", value[:12] + "…")
    if column in ("archive_url", "存档副本 archive_url", "source_url", "url", "原文网址 source_url") \
            and str(value).startswith(("http://", "https://", "/-/")):
        return _link(str(value), str(value) if len(str(value)) < 60 else str(value)[:57] + "…")
    if (table, column) in SUMMARIES:
        return Markup(f'<span class="summary">{escape(summary(table, column, value))}</span>')
    return None


def summary(table: str, column: str, value) -> str:
    """One readable line for a long text or JSON cell; the full value stays in the JSON and CSV."""
    text = str(value)
    if column == "text" or column == "text_diff":
        return f"{text[:60]}… （共 {len(text):,} 字 chars）" if len(text) > 60 else text
    try:
        data = json.loads(text)
    except ValueError:
        return text[:80]
    if column == "record" and isinstance(data, dict):
        figures = sum(len(v) for t in ("applications", "review_litigation", "active_disclosure")
                      for v in (data.get(t) or {}).values() if isinstance(v, dict))
        return (f"模板 template {data.get('template', '?')} · {figures} 格 cells · "
                f"{len(data.get('warnings') or [])} 条提示 warnings · {len(data.get('checks') or [])} 项校验 checks")
    if isinstance(data, dict):
        wanted = ("downloader/request_count", "item_scraped_count", "response_received_count", "finish_reason",
                  "elapsed_time_seconds", "reports", "new_versions", "failed", "log_count/ERROR")
        shown = [f"{k.rsplit('/', 1)[-1]}={data[k]}" for k in wanted if k in data]
        return " · ".join(shown or [f"{k}={v}" for k, v in list(data.items())[:5] if not isinstance(v, (dict, list))]) \
            + f" （{len(data)} 项 entries）"
    if isinstance(data, list):
        return f"{len(data)} 项 entries: " + ", ".join(map(str, data[:5]))
    return text[:80]


# ------------------------------------------------------------------ exports, headers, the home page

@hookimpl
def prepare_connection(conn):
    # absolute links from SQL (canned queries, CSV): site_url('/-/report/9'), archive_url(sha256)
    conn.create_function("site_url", 1, lambda path: public(path or "/"), deterministic=False)
    conn.create_function("archive_url", 1, lambda sha: public(f"/-/blob/{sha}") if sha else None)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_site(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            bom = scope["path"].endswith(".csv") and b"_bom=1" in scope.get("query_string", b"")
            first = {"body": True}

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                    message = {**message, "headers": headers}
                elif message["type"] == "http.response.body" and first["body"]:
                    first["body"] = False
                    message = {**message, "body": b"\xef\xbb\xbf" + message.get("body", b"")}
                await send(message)

            return await app(scope, receive, send_with_bom if bom else send)

        return with_site

    return wrap


@hookimpl
def extra_css_urls():
    return ["/-/nianbao.css"]


@hookimpl
def extra_template_vars(template, datasette, request):
    return {"nianbao_db": DB, "zh_label": label, "LABELS": LABELS}
