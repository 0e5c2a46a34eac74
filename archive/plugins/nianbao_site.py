"""The archive's own pages in Datasette: Chinese search, the report page, archived files.

Routes:
- ``/-/search`` (and ``/-/search.json``): any-length Chinese search with highlighted snippets,
  filterable by year and province;
- ``/-/report/<id>``: the three statutory tables laid out like the original form, every check,
  every archived document with its versions and what changed, a chart over the years;
- ``/-/blob/<sha256>``: an archived payload, byte for byte, from the blob store;
- ``/-/region?province=…&city=…``: applications and outcomes over the years for a region.
"""

from __future__ import annotations

import json
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response

from archive.charts import agency_chart
from archive.search import search
from pipelines.form import grids, rows_of

DB = "nianbao"


def _db(datasette):
    return datasette.get_database(DB)


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


async def search_page(datasette, request):
    q = (request.args.get("q") or "").strip()[:200]
    year, province = _int(request.args.get("year")), request.args.get("province") or None
    db = _db(datasette)
    rows = await db.execute_fn(lambda conn: _search(conn, q, year, province)) if q else []
    if request.url_vars.get("format") == "json":
        return Response.json({"q": q, "year": year, "province": province, "rows": rows})
    years = [r[0] for r in (await db.execute("SELECT DISTINCT year FROM search_reports ORDER BY year DESC")).rows]
    provinces = [r[0] for r in (await db.execute(
        "SELECT DISTINCT province FROM search_reports WHERE province IS NOT NULL ORDER BY province")).rows]
    return Response.html(await datasette.render_template(
        "search.html", {"q": q, "year": year, "province": province, "rows": rows, "years": years,
                        "provinces": provinces}, request=request))


def _search(conn, q, year, province):
    class Adapter:  # archive.search speaks to a sqlite-utils-like .execute
        execute = conn.execute

    return search(Adapter, q, year=year, province=province)


async def report_page(datasette, request):
    report_id = _int(request.url_vars["id"])
    db = _db(datasette)
    report = (await db.execute(
        "SELECT r.*, a.name AS agency, a.province, a.city, a.county FROM reports r "
        "JOIN agencies a ON a.id = r.agency_id WHERE r.id = ?", [report_id])).first()
    if report is None:
        return Response.html("<h1>404</h1>", status=404)
    report = dict(report)
    record = None
    if report["source_version_id"]:
        row = (await db.execute("SELECT record FROM versions WHERE id = ?", [report["source_version_id"]])).first()
        record = json.loads(row["record"]) if row and row["record"] else None
    checks = [dict(r) for r in (await db.execute(
        "SELECT * FROM checks WHERE version_id = ? ORDER BY check_id, scope", [report["source_version_id"]])).rows]
    documents = await _documents(db, report_id)
    history = [dict(r) for r in (await db.execute(
        "SELECT r.id, r.year, f.applications_received, f.granted, f.total_processed, f.carried_over, "
        "f.carried_forward FROM reports r JOIN report_figures f ON f.report_id = r.id "
        "WHERE r.agency_id = ? ORDER BY r.year", [report["agency_id"]])).rows]
    context = {
        "report": report, "record": record, "checks": checks, "documents": documents, "history": history,
        "tables": [(heading, rows_of(grid)) for heading, grid in grids(record)]
        if record and record.get("template") in ("2019", "2021") else [],
        "chart": agency_chart(history),
    }
    return Response.html(await datasette.render_template("report.html", context, request=request))


async def _documents(db, report_id: int) -> list[dict]:
    documents = [dict(r) for r in (await db.execute(
        "SELECT * FROM documents WHERE report_id = ? ORDER BY role DESC, id", [report_id])).rows]
    for document in documents:
        document["versions"] = [dict(v) for v in (await db.execute(
            "SELECT v.id, v.sha256, v.first_seen, v.last_seen, v.extract_status, v.extract_error, b.size, "
            "b.media_type, c.cells_changed, c.text_diff FROM versions v JOIN blobs b ON b.sha256 = v.sha256 "
            "LEFT JOIN version_changes c ON c.version_id = v.id WHERE v.document_id = ? ORDER BY v.id DESC",
            [document["id"]])).rows]
        for version in document["versions"]:
            version["cell_changes"] = [dict(c) for c in (await db.execute(
                "SELECT * FROM cell_changes WHERE version_id = ?", [version["id"]])).rows]
    return documents


async def region_page(datasette, request):
    province, city = request.args.get("province") or None, request.args.get("city") or None
    db = _db(datasette)
    history = [dict(r) for r in (await db.execute(
        "SELECT year, count(*) AS reports, sum(applications_received) AS applications_received, "
        "sum(granted) AS granted, sum(total_processed) AS total_processed, sum(review_total) AS review_total, "
        "sum(litigation_direct_total) + sum(litigation_after_review_total) AS litigation_total "
        "FROM report_figures WHERE (:province IS NULL OR province = :province) AND (:city IS NULL OR city = :city) "
        "GROUP BY year ORDER BY year", {"province": province, "city": city})).rows]
    provinces = [r[0] for r in (await db.execute(
        "SELECT DISTINCT province FROM report_figures WHERE province IS NOT NULL ORDER BY 1")).rows]
    context = {"province": province, "city": city, "history": history, "chart": agency_chart(history),
               "provinces": provinces}
    if request.url_vars.get("format") == "json":
        return Response.json({k: v for k, v in context.items() if k != "chart"})
    return Response.html(await datasette.render_template("region.html", context, request=request))


async def blob(datasette, request):
    sha256 = request.url_vars["sha256"]
    db = _db(datasette)
    row = (await db.execute("SELECT media_type FROM blobs WHERE sha256 = ?", [sha256])).first()
    folder = Path(db.path).parent
    if folder.name == "published":  # a nightly run's published copy sits beside the archive
        folder = folder.parent
    path = folder / "blobs" / sha256[:2] / sha256[2:4] / sha256
    if row is None or not path.exists():
        return Response.text("not archived", status=404)
    # served under its hash only: a file name from the portal never reaches a header or the disk
    return Response(path.read_bytes(), content_type=row["media_type"] or "application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{sha256}"',
                             "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; sandbox"})


@hookimpl
def register_routes():
    return [
        (r"^/-/search(\.(?P<format>json))?$", search_page),
        (r"^/-/report/(?P<id>\d+)$", report_page),
        (r"^/-/blob/(?P<sha256>[0-9a-f]{64})$", blob),
        (r"^/-/region(\.(?P<format>json))?$", region_page),
    ]


@hookimpl
def extra_template_vars(datasette):
    return {"nianbao_db": DB}
