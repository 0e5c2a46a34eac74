"""The archive's own pages in Datasette: the report as the hub, agencies, regions, search, originals.

Routes (HTML, and JSON where it says so; see "JSON API" in the README):
- ``/-/report/<id>`` (``.json``): the report page: its form with failed cells marked, the agency's other
  years with the change from the year before, prose sections, revisions with their diff, every document;
- ``/-/agency/<id>`` (``.json``): one agency over the years, with carry-over continuity;
  ``/-/agency?q=…``: agencies whose name holds any part of ``q``;
- ``/-/region`` (``.json``): province → city → county drill-down;
- ``/-/tables`` (``.xlsx``, ``.csv``): the statutory table builder: 表二/三/四 of any set of reports in the printed
  shape, one block per report or summed (``archive/statutory.py``);
- ``/-/search`` (``.json``, ``.atom``): ranked Chinese search with filters, sorting and paging;
- ``/-/feed.atom``: new and revised reports, one entry per report; ``/-/agency/<id>.atom`` and
  ``/-/region.atom?province=…`` the same for one agency or region; ``/-/feed``, ``/-/agency/<id>/feed``,
  ``/-/region/feed?…`` and ``/-/search/feed?q=…`` say what each feed is before its XML;
- ``/-/blob/<sha256>``: an archived original under its own cleaned name, inline only if it is a PDF, office file or
  raster image (archive/media.py), always sandboxed (``?download=1`` to save);
- ``/-/nianbao.css``: the site's stylesheet.

Every cell that names a report anywhere in Datasette links to its page (``render_cell``).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from urllib.parse import quote, urlencode

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, BadRequest, NotFound, Response
from markupsafe import Markup, escape

from archive import site
from archive.charts import agency_chart
from archive.media import BLOB_POLICY, HEAD_BYTES, shown_inline
from archive.search import PAGE, SORTS, Filters, search_page, terms_of
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
    from pipelines.labels import TABLE_SECTIONS

    context["tables"] = ([(table, heading, rows_of(grid)) for table, (heading, grid) in zip(TABLE_SECTIONS, grids(record))]
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
    if request.url_vars.get("format") == "atom":
        return await agency_feed(datasette, context)
    if request.url_vars.get("format") == "json":
        return _json({**context, "history": [{**h, "url": public(f"/-/report/{h['report_id']}")}
                                             for h in context["history"]]})
    context["chart"] = agency_chart(context["history"])
    context["figures"] = site.MAIN_FIGURES
    return await _html(datasette, request, "agency.html", context)


async def region_page(datasette, request):
    chosen = [_arg(request, level) for level in site.LEVELS]
    context = await _db(datasette).execute_fn(lambda conn: site.region(conn, *chosen))
    if context is None:
        raise NotFound(_unknown_region(chosen))
    fmt = request.url_vars.get("format")
    if fmt == "json":
        return _json(context)
    query = region_query(chosen)
    if fmt == "atom":
        return await region_feed(datasette, context, query)
    context["chart"] = agency_chart(context["history"])
    context["query"] = query
    return await _html(datasette, request, "region.html", context)


def _unknown_region(chosen) -> str:
    named = [name for name in chosen if name]
    return (f"档案中没有“{''.join(named)}”的机关：地区名称有误，或这一地区尚未收录 · No agency of the archive is in "
            f"{' / '.join(named)}")


def region_query(chosen) -> str:
    """The region's own query string (province, city, county), kept by every link that stays in it."""
    return urlencode({level: name for level, name in zip(site.LEVELS, chosen) if name})


# ------------------------------------------------------------------ the statutory table builder

def _selection(request):
    from archive.statutory import TABLES, Selection

    table = request.args.get("table") or "三"
    table = TABLES.get(table, table if table in TABLES.values() else "applications")
    reports = [n for n in (_int(v) for v in request.args.getlist("report")) if n is not None][:5000]
    return Selection(province=_arg(request, "province"), city=_arg(request, "city"), county=_arg(request, "county"),
                     year=_int(request.args.get("year")), agency=_int(request.args.get("agency")),
                     template=_arg(request, "template"), check_status=_arg(request, "check_status"),
                     reports=reports, table=table, summed=request.args.get("sum") in ("1", "on", "true"))


SEARCH_ONLY = ("agency_name", "published_from", "published_to")  # the search's filters the builder has no field for


def _searched(conn, q: str, selection, searched: dict | None = None) -> list[int]:
    """The report ids a search finds (every page of it, up to the search's own cap), with the search's own
    filters kept (an agency by any part of its name, a published-date range)."""
    searched = searched or {}
    found = search_page(conn, q, Filters(year=selection.year, province=selection.province, city=selection.city,
                                         county=selection.county, template=selection.template,
                                         check_status=selection.check_status, agency=searched.get("agency_name"),
                                         published_from=_date(searched.get("published_from")),
                                         published_to=_date(searched.get("published_to"), end=True)),
                        "newest", 1, 5000)
    return [row["report_id"] for row in found.rows if not row.get("earlier_version")] or [-1]


def _table_options(conn, selection) -> dict:
    def column(sql, params=()):
        return [r[0] for r in conn.execute(sql, params)]

    region = [(level, getattr(selection, level)) for level in site.LEVELS if getattr(selection, level)]
    where = " AND ".join(f"{level} = ?" for level, _ in region) or "1"
    return {
        "provinces": column("SELECT DISTINCT province FROM agencies WHERE province IS NOT NULL ORDER BY 1"),
        "cities": column("SELECT DISTINCT city FROM agencies WHERE city IS NOT NULL AND (province = ? OR ? IS NULL) "
                         "ORDER BY 1", [selection.province, selection.province]),
        "counties": column("SELECT DISTINCT county FROM agencies WHERE county IS NOT NULL AND (city = ? OR ? IS NULL) "
                           "AND (province = ? OR ? IS NULL) ORDER BY 1",
                           [selection.city, selection.city, selection.province, selection.province]),
        "years": column("SELECT DISTINCT year FROM reports ORDER BY year DESC"),
        "agencies": [dict(zip(("id", "name"), r)) for r in conn.execute(
            f"SELECT id, name FROM agencies WHERE {where} ORDER BY name LIMIT 500", [v for _, v in region])],
    }


async def tables_page(datasette, request):
    from archive import statutory
    from archive.form import rows_of

    selection = _selection(request)
    q = _arg(request, "q", 200)
    searched = {name: value for name in SEARCH_ONLY if (value := _arg(request, name))} if q else {}
    db = _db(datasette)

    def work(conn):
        if not site.region_known(conn, selection.province, selection.city, selection.county):
            return None
        if q:
            selection.reports = _searched(conn, q, selection, searched)
        return statutory.build(conn, selection), _table_options(conn, selection)

    answer = await db.execute_fn(work)
    if answer is None:
        raise NotFound(_unknown_region([selection.province, selection.city, selection.county]))
    built, options = answer
    fmt = request.url_vars.get("format")
    name = f"{built['number']}_{selection.description().replace(' ', '_')}"
    if fmt == "xlsx":
        return Response(statutory.xlsx(built, public),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=\"tables.xlsx\"; "
                                                        f"filename*=UTF-8''{quote(name)}.xlsx"})
    if fmt == "csv":
        return Response("\ufeff" + statutory.csv_text(built, public), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename=\"tables.csv\"; "
                                                        f"filename*=UTF-8''{quote(name)}.csv"})
    args = selection.args() | ({"q": q} if q else {}) | searched
    shown = [(block, rows_of(block.grid())) for block in built["blocks"][:statutory.HTML_BLOCKS]]
    return await _html(datasette, request, "tables.html", {
        **built, **options, "shown": shown, "q": q, "searched": searched, "limit": statutory.HTML_BLOCKS,
        "download": lambda fmt: f"/-/tables.{fmt}?" + urlencode(args),
        "with_table": lambda key: "/-/tables?" + urlencode(args | {"table": key})})


# ------------------------------------------------------------------ search

_DATE = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2}))?(?:[-/.月](\d{1,2}))?日?$")


def _date(value: str | None, end: bool = False) -> str | None:
    """YYYY-MM-DD from 2021, 2021-03, 2021-3-5, 2021年3月5日 (the start of the period, or its end); None else."""
    match = _DATE.match((value or "").strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3)
    if not month:
        return f"{year}-12-31" if end else f"{year}-01-01"
    if not 1 <= int(month) <= 12:
        return None
    if not day:
        day = "31" if end else "01"  # string order: 2021-02-31 still ends February
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _filters(request) -> Filters:
    return Filters(year=_int(request.args.get("year")), province=_arg(request, "province"), city=_arg(request, "city"),
                   county=_arg(request, "county"), template=_arg(request, "template"),
                   check_status=_arg(request, "check_status"), agency=_arg(request, "agency"),
                   published_from=_date(request.args.get("published_from")),
                   published_to=_date(request.args.get("published_to"), end=True))


def paging(total: int, capped: bool, page: int, size: int) -> dict:
    """How many pages there are, and whether the page asked for is one of them (page=999 of 2 is not)."""
    pages = math.ceil(total / size)
    if capped:  # counted to the cap: there may be a page past the last one counted
        pages += 1
    return {"pages": pages, "out_of_range": page > max(pages, 1)}


def other_names(q: str) -> list[str]:
    """The query with an agency's short name made official, or the other way round (科技局 → 科学技术局):
    the text is searched as written, and an agency signs with one form or the other."""
    from archive.agency_names import name_variants

    terms = terms_of(q)
    queries = []
    for i, term in enumerate(terms):
        for variant in name_variants(term)[1:]:
            changed = [f"“{t}”" if " " in t else t for t in terms[:i] + [variant] + terms[i + 1:]]
            queries.append(" ".join(changed))
    return queries[:5]


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
    paged = paging(results.total, results.capped, page, size) if results else {"pages": 0, "out_of_range": False}
    if fmt == "json":
        return _json({"q": q, "terms": terms_of(q), "filters": vars(filters), "sort": sort, "page": page,
                      "page_size": size, **paged,
                      "total": results.total if results else 0, "total_capped": bool(results and results.capped),
                      "rows": [{**r, "url": public(f"/-/report/{r['report_id']}")} for r in (results.rows if results else [])]})
    if fmt == "atom":
        return search_feed(request, q, results)
    options = await db.execute_fn(_search_options)
    current = {k: request.args.get(k) for k in request.args.keys() if request.args.get(k)}
    saved = urlencode({k: v for k, v in current.items() if k not in ("page", "sort", "size")})

    def page_url(n, **change):
        args = {k: v for k, v in current.items() if k != "page"} | change | ({"page": n} if n > 1 else {})
        return "/-/search?" + urlencode(args)

    return await _html(datasette, request, "search.html", {
        "q": q, "terms": terms_of(q), "results": results, "filters": vars(filters), "sort": sort, "page": page,
        **paged, "page_url": page_url, "sort_url": lambda s: page_url(1, sort=s), "size": size, "sizes": PAGE_SIZES,
        "size_url": lambda n: page_url(1, size=n), "agency_names": filters.agency_names(),
        "alternatives": [(alternative, page_url(1, q=alternative)) for alternative in other_names(q)],
        "bad_dates": [name for name in ("published_from", "published_to")
                      if request.args.get(name) and getattr(filters, name) is None],
        "unknown_region": "".join(n for n in (filters.province, filters.city, filters.county) if n)
        if not await db.execute_fn(lambda conn: site.region_known(conn, filters.province, filters.city, filters.county))
        else None,
        "atom_url": "/-/search.atom?" + saved, "feed_page": "/-/search/feed?" + saved,
        "tables_url": "/-/tables?" + urlencode({"q": q, **{k: v for k, v in vars(filters).items()
                                                          if v is not None and k != "agency"},
                                               **({"agency_name": filters.agency} if filters.agency else {}),
                                               "table": "三"}),
        **options})


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


def atom(title: str, self_url: str, entries: list[dict], page_url: str | None = None) -> Response:
    """An Atom feed with absolute links; `entries` carry id, title, updated, link, summary; `page_url` is the
    page the feed follows (the agency's, the region's, the search's)."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title)
    feed.link(href=self_url, rel="self")
    feed.link(href=page_url or public("/"), rel="alternate")
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
    query = request.query_string
    return atom(f"“{q}” · 政府信息公开年报检索 nianbao", public("/-/search.atom?" + query), entries,
                public("/-/search?" + query))


# Every report of a set, newest change first: the entries of the site-wide, agency and region feeds.
_ENTRIES = (f"SELECT r.id, r.title, a.name AS agency, r.year, max(v.first_seen) AS updated, {site.VERSIONS} AS versions, "
            "f.applications_received, f.granted, f.check_status "
            "FROM reports r JOIN agencies a ON a.id = r.agency_id JOIN documents d ON d.report_id = r.id "
            "JOIN versions v ON v.document_id = d.id LEFT JOIN report_figures f ON f.report_id = r.id "
            "WHERE {where} GROUP BY r.id ORDER BY updated DESC, r.id DESC LIMIT 100")


def report_entries(rows) -> list[dict]:
    def summary(r):
        figures = [f"{zh} {r[key]}" for key, zh in (("applications_received", "本年新收申请"), ("granted", "予以公开"))
                   if r[key] is not None]
        return " · ".join([f"{r['agency']} {r['year']} 年度", *figures])

    return [{"id": public(f"/-/report/{r['id']}"),
             "title": r["title"] + (f"（已修订 revised, {r['versions']} 个版本 versions）" if r["versions"] > 1 else ""),
             "updated": _timestamp(r["updated"]), "link": public(f"/-/report/{r['id']}"), "summary": summary(r)}
            for r in rows]


async def _entries(datasette, where: str, params) -> list[dict]:
    return report_entries((await _db(datasette).execute(_ENTRIES.format(where=where), params)).rows)


async def feed_route(datasette, request):
    entries = await _entries(datasette, "1", [])
    return atom("新收录与已修订的年报 · New and revised reports", public("/-/feed.atom"), entries)


async def agency_feed(datasette, context) -> Response:
    agency = context["agency"]
    entries = await _entries(datasette, "r.agency_id = ?", [agency["id"]])
    return atom(f"{agency['name']} · 政府信息公开年报 nianbao", public(f"/-/agency/{agency['id']}.atom"), entries,
                public(f"/-/agency/{agency['id']}"))


async def region_feed(datasette, context, query: str) -> Response:
    chosen = {level: context[level] for level in site.LEVELS}
    where = " AND ".join(f"a.{level} = :{level}" for level, name in chosen.items() if name) or "1"
    entries = await _entries(datasette, where, {k: v for k, v in chosen.items() if v})
    name = "".join(v for v in chosen.values() if v) or "全部地区"
    return atom(f"{name} · 政府信息公开年报 nianbao", public("/-/region.atom" + (f"?{query}" if query else "")), entries,
                public("/-/region" + (f"?{query}" if query else "")))


async def feed_page(datasette, request):
    """What a feed is, in people's words, before its XML: the address to copy and what it holds now."""
    kind, agency_id = request.url_vars["kind"], _int(request.url_vars.get("id"))
    query = request.query_string
    db = _db(datasette)
    if kind == "agency":
        context = await db.execute_fn(lambda conn: site.agency(conn, agency_id))
        if context is None:
            raise NotFound(f"没有编号为 {agency_id} 的机关 · No agency {agency_id}")
        name, back, xml = context["agency"]["name"], f"/-/agency/{agency_id}", f"/-/agency/{agency_id}.atom"
        response = await agency_feed(datasette, context)
        what = f"{name}每有一份新年报，或已有年报被修订，订阅源里就多一条。"
    elif kind == "region":
        chosen = [_arg(request, level) for level in site.LEVELS]
        context = await db.execute_fn(lambda conn: site.region(conn, *chosen))
        if context is None:
            raise NotFound(_unknown_region(chosen))
        query = region_query(chosen)
        name = "".join(n for n in chosen if n) or "全部地区"
        back, xml = "/-/region" + (f"?{query}" if query else ""), "/-/region.atom" + (f"?{query}" if query else "")
        response = await region_feed(datasette, context, query)
        what = f"{name}的机关每有一份新年报，或已有年报被修订，订阅源里就多一条。"
    elif kind == "search":
        q = _arg(request, "q", 200) or ""
        if not q:
            raise NotFound("订阅检索需要检索词 · A saved search needs a query: /-/search/feed?q=…")
        filters = _filters(request)
        results = await db.execute_fn(lambda conn: search_page(conn, q, filters, "newest", 1, PAGE))
        name, back, xml = f"检索“{q}”", f"/-/search?{query}", f"/-/search.atom?{query}"
        response = search_feed(request, q, results)
        what = f"全文含“{q}”（及所选筛选条件）的年报，最新年度在前；新收录的年报含有这些词时，订阅源里就多一条。"
    else:
        name, back, xml = "新收录与已修订的年报", "/", "/-/feed.atom"
        response = await feed_route(datasette, request)
        what = "档案每收录一份新年报，或发现已有年报被修订，订阅源里就多一条。"
    entries = _parse_entries(response.body)
    return await _html(datasette, request, "feed.html", {"name": name, "back": back, "xml": xml,
                                                          "xml_url": public(xml), "what": what, "entries": entries})


def _parse_entries(body) -> list[dict]:
    """The feed's own entries, read back from its XML: the page shows exactly what a reader will get."""
    from xml.etree import ElementTree

    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ElementTree.fromstring(body if isinstance(body, bytes) else body.encode("utf-8"))
    return [{"title": e.findtext("a:title", "", ns), "link": (e.find("a:link", ns).get("href") if e.find("a:link", ns)
                                                              is not None else ""),
             "updated": e.findtext("a:updated", "", ns), "summary": e.findtext("a:summary", "", ns)}
            for e in root.findall("a:entry", ns)]


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
        (r"^/-/agency/(?P<id>\d+)\.(?P<format>atom)$", agency_page),
        (r"^/-/agency(/(?P<id>\d+))?(\.(?P<format>json))?$", agency_page),
        (r"^/-/blob/(?P<sha256>[0-9a-f]{64})$", blob),
        (r"^/-/region(\.(?P<format>json|atom))?$", region_page),
        (r"^/-/tables(\.(?P<format>xlsx|csv))?$", tables_page),
        (r"^/-/feed\.atom$", feed_route),
        (r"^/-/(?P<kind>agency)/(?P<id>\d+)/feed$", feed_page),
        (r"^/-/(?P<kind>region|search)/feed$", feed_page),
        (r"^/-/(?P<kind>feed)$", feed_page),
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
    words = people_words(row, keys, value, column, table)
    if words is not None:
        return words
    if (table, column) in SUMMARIES:
        return Markup(f'<span class="summary">{escape(summary(table, column, value))}</span>')
    return None


def people_words(row, keys, value, column, table) -> Markup | None:
    """Statuses, check ids and the form's keys as the form says them; the key stays in the title (and JSON/CSV)."""
    from archive import words
    from pipelines.labels import CHECK_WORDING

    said = None
    if column in ("check_status", "extract_status", "勾稽校验 check_status") or (table == "checks" and column == "status"):
        said = words.STATUS_WORDS.get(str(value))
    elif column == "check_id":
        said = CHECK_WORDING.get(str(value))
    elif column == "scope" and "check_id" in keys:
        said = words.check_scope(str(row["check_id"]), str(value))
    elif column == "detail" and "check_id" in keys and "scope" in keys:
        said = words.check_sentence({"check_id": row["check_id"], "scope": row["scope"],
                                     "status": row["status"] if "status" in keys else "fail",
                                     "expected": row["expected"] if "expected" in keys else None,
                                     "actual": row["actual"] if "actual" in keys else None})
    elif column in ("row_key", "column_key") and "report_table" in keys:
        name = words.row_label if column == "row_key" else words.column_label
        said = name(row["report_table"], str(value))
    elif column == "report_table":
        said = words.TABLE_NUMBERS.get(str(value))
    elif column == "proceeding" or (column == "outcome" and "proceeding" in keys):
        name = words.row_label if column == "proceeding" else words.column_label
        said = name("review_litigation", str(value))
    if said is None or said == str(value):
        return None
    return Markup(f'<span class="said" title="{escape(value)}">{escape(said)}</span>')


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
                    message = {**message, "body": b"\xef\xbb\xbf" + chinese_header(message.get("body", b""))}
                await send(message)

            return await app(scope, receive, send_with_bom if bom else send)

        return with_site

    return wrap


def chinese_header(body: bytes) -> bytes:
    """The CSV for Excel (``_bom=1``) heads its columns Chinese first, the key beside: 本年新收申请 applications_received."""
    import csv
    import io

    head, newline, rest = body.partition(b"\n")
    try:
        names = next(csv.reader([head.decode("utf-8").rstrip("\r")]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return body
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if head.endswith(b"\r") else "\n").writerow([label(n) for n in names])
    return out.getvalue().encode("utf-8") + rest if newline else body


@hookimpl
def extra_css_urls():
    return ["/-/nianbao.css"]


# Datasette's own error messages, said in Chinese first (the English kept beside).
ERRORS_ZH = (
    ("Database not found", "没有这个数据库。本站的数据库是 nianbao，见首页。"),
    ("Table not found", "没有这张数据表或视图。全部数据表见 /nianbao。"),
    ("Record not found", "没有这一行记录。"),
    ("Row not found", "没有这一行记录。"),
    ("Statement must be a SELECT", "只能执行查询（SELECT）语句。"),
    ("You do not have permission", "没有查看权限。"),
    ("Permission denied", "没有权限。"),
    ("Database is immutable", "本站只读，不能修改数据。"),
    ("Database download is forbidden", "不提供整个数据库的下载；请用各表的 CSV / XLSX 导出。"),
    ("_size must be", "每页行数 _size 须为正整数，且不超过上限。"),
    ("CSV streaming is disabled", "不提供流式 CSV 导出。"),
    ("_facet= is not allowed", "不能按这一列分面。"),
    ("is not a valid column", "没有这一列。"),
    ("no such column", "没有这一列。"),
    ("no such table", "没有这张数据表。"),
    ("syntax error", "SQL 语法有误。"),
    ("interrupted", "查询超时，已中止。请缩小范围后再试。"),
)


def zh_error(message, status=None) -> Markup:
    """An error said in Chinese first: our own messages already are; Datasette's get a Chinese sentence."""
    text = str(message or "")
    if any("\u4e00" <= c <= "\u9fff" for c in text[:80]):
        return Markup(escape(text)) if not isinstance(message, Markup) else message
    zh = next((zh for english, zh in ERRORS_ZH if english.lower() in text.lower()), None)
    if zh is None:
        zh = {404: "没有这个页面。", 400: "请求有误。", 403: "没有权限。"}.get(status, "出错了，请求未能完成。")
    return Markup(f'<span lang="zh">{escape(zh)}</span> <span lang="en">{escape(text) if text else ""}</span>')


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.globals["zh_error"] = zh_error  # Datasette renders its error page without the extra template vars


@hookimpl
def extra_template_vars(template, datasette, request):
    from archive.words import status_word

    return {"nianbao_db": DB, "zh_label": label, "LABELS": LABELS, "status_word": status_word}
