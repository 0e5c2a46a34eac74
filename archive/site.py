"""What the site's own pages show, read from the archive (plain sqlite3, no Datasette).

Each function takes a ``sqlite3.Connection`` and returns plain data for a template or JSON:
the report page (the hub), an agency across the years, a region's drill-down, the home page's
numbers, and which cells a failed check points at.
"""

from __future__ import annotations

import json
import posixpath
import sqlite3
from urllib.parse import unquote, urlsplit

from pipelines.labels import APPLICANT_COLUMN_KEYS, OUTCOME_ROWS, REVIEW_COLUMNS

from .gaps import gaps
from .media import offered_name, stored_media_type
from .versions import CURRENT_ORDER, report_versions_sql
from .words import check_sentence, key_label

# The main figures, in the order a reader compares them year by year.
MAIN_FIGURES = (
    ("applications_received", "本年新收申请", "received"),
    ("carried_over", "上年结转", "carried over"),
    ("granted", "予以公开", "granted"),
    ("total_processed", "办理结果总计", "processed"),
    ("carried_forward", "结转下年度", "carried forward"),
    ("review_total", "行政复议", "reviews"),
    ("litigation_total", "行政诉讼", "lawsuits"),
)
SECTIONS = (("overall", "一、总体情况 Overview"), ("problems", "五、存在的主要问题及改进情况 Problems and improvements"),
            ("other", "六、其他需要报告的事项 Other matters"))
_FIGURES_SQL = ("SELECT f.report_id, f.year, f.applications_received, f.carried_over, f.granted, f.total_processed, "
                "f.carried_forward, f.review_total, (SELECT v.extract_status FROM versions v WHERE v.id = r.source_version_id) "
                "AS extract_status, "
                "coalesce(f.litigation_direct_total, 0) + coalesce(f.litigation_after_review_total, 0) "
                "  + CASE WHEN f.litigation_direct_total IS NULL AND f.litigation_after_review_total IS NULL "
                "    THEN NULL ELSE 0 END AS litigation_total, f.check_status, "
                f"{report_versions_sql('r.id')} AS versions "
                "FROM report_figures f JOIN reports r ON r.id = f.report_id WHERE r.agency_id = ? ORDER BY f.year")
VERSIONS = report_versions_sql("r.id")  # the report's contents over time (archive.versions)
REVISED = f"{VERSIONS} > 1"


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def _row(conn, sql, params=()) -> dict | None:
    rows = _rows(conn, sql, params)
    return rows[0] if rows else None


# ------------------------------------------------------------------ checks → cells

def offending_keys(check: dict, template: str | None) -> list[str]:
    """The cells (table.row.column) a failed check adds up, so the form can mark them."""
    check_id, scope = check["check_id"], check["scope"]
    if check_id == "applications.balance":
        return [f"applications.{row}.{scope}" for row in ("new_received", "carried_over", "total_processed",
                                                          "carried_forward")]
    if check_id == "applications.outcomes_sum":
        rows = OUTCOME_ROWS.get(template or "", ())
        return [f"applications.total_processed.{scope}"] + [f"applications.{row}.{scope}" for row in rows]
    if check_id == "applications.row_total":
        return [f"applications.{scope}.{column}" for column in APPLICANT_COLUMN_KEYS]
    if check_id == "review_litigation.group_total":
        return [f"review_litigation.{scope}.{column}" for column, _ in REVIEW_COLUMNS]
    return []


def suspects(marked: dict[str, list[str]]) -> list[str]:
    """The cells most likely wrong: those in more failing checks than any other, when more than one.

    A wrong 办理结果总计 breaks both the balance and the outcome sum of its column; the one cell the
    failing checks share is the one to outline. A lone failing check cannot say which of its cells is wrong."""
    most = max((len(v) for v in marked.values()), default=0)
    return sorted(k for k, v in marked.items() if len(v) == most) if most > 1 else []


# ------------------------------------------------------------------ figures over the years

def with_changes(history: list[dict]) -> list[dict]:
    """Each year's figures with the change from the year before (None where either is missing)."""
    previous = None
    for year in history:
        year["change"] = {}
        for key, _, _ in MAIN_FIGURES:
            now, before = year.get(key), (previous or {}).get(key)
            if isinstance(now, (int, float)) and isinstance(before, (int, float)) and previous["year"] == year["year"] - 1:
                year["change"][key] = {"delta": now - before,
                                       "percent": round(100 * (now - before) / before, 1) if before else None}
        year["continuity"] = continuity(previous, year)
        previous = year
    return history


def continuity(last: dict | None, this: dict) -> str | None:
    """'ok' or 'broken' when last year's 结转下年度 can be set against this year's 上年结转."""
    if not last or last["year"] != this["year"] - 1:
        return None
    forward, over = last.get("carried_forward"), this.get("carried_over")
    if forward is None or over is None:
        return None
    return "ok" if forward == over else "broken"


def agency_history(conn, agency_id: int) -> list[dict]:
    return with_changes(_rows(conn, _FIGURES_SQL, [agency_id]))


# ------------------------------------------------------------------ the report page

def report(conn, report_id: int) -> dict | None:
    """Everything the report page shows, or None when there is no such report."""
    head = _row(conn, f"SELECT r.*, a.name AS agency, a.province, a.city, a.county, {VERSIONS} AS versions "
                      "FROM reports r JOIN agencies a ON a.id = r.agency_id WHERE r.id = ?", [report_id])
    if head is None:
        return None
    head["revised"] = head["versions"] > 1
    version = _row(conn, "SELECT record FROM versions WHERE id = ?", [head["source_version_id"]]) or {}
    record = json.loads(version["record"]) if version.get("record") else None
    checks = _rows(conn, "SELECT check_id, scope, status, expected, actual, detail FROM checks WHERE version_id = ? "
                         "ORDER BY status != 'fail', status != 'not_assessable', check_id, scope",
                   [head["source_version_id"]])
    for check in checks:
        check["sentence"] = check_sentence(check, head["template"])
    marked = {}
    for check in checks:
        if check["status"] == "fail":
            for key in offending_keys(check, head["template"]):
                marked.setdefault(key, []).append(check["sentence"])
    history = agency_history(conn, head["agency_id"])
    every_document = report_documents(conn, report_id)
    documents = fold_identical(conn, every_document)
    return {
        "report": head,
        "record": record,
        "sections": [(label, (record or {}).get("sections", {}).get(key)) for key, label in SECTIONS
                     if (record or {}).get("sections", {}).get(key)],
        "checks": checks,
        "failed": [c for c in checks if c["status"] == "fail"],
        "marked": marked,
        "suspects": suspects(marked),
        "gaps": gaps(record),
        "history": history,
        "this_year": next((h for h in history if h["report_id"] == report_id), None),
        "other_years": [h for h in history if h["report_id"] != report_id],
        "documents": documents,
        "revisions": [v for d in every_document for v in d["versions"] if v["cells_changed"] is not None],
    }


def report_documents(conn, report_id: int) -> list[dict]:
    documents = _rows(conn, "SELECT * FROM documents WHERE report_id = ? ORDER BY role DESC, id", [report_id])
    for document in documents:
        document["versions"] = _rows(conn, (
            "SELECT v.id, v.sha256, v.first_seen, v.last_seen, v.extract_status, v.extract_error, v.template, b.size, "
            "b.media_type, c.cells_changed, c.text_diff, c.previous_version_id, "
            "(SELECT w.filename FROM warc_records w WHERE w.payload_sha256 = v.sha256 AND w.record_type = 'response' "
            " ORDER BY w.id LIMIT 1) AS warc_file "
            "FROM versions v JOIN blobs b ON b.sha256 = v.sha256 LEFT JOIN version_changes c ON c.version_id = v.id "
            f"WHERE v.document_id = ? ORDER BY v.{CURRENT_ORDER.replace(', ', ', v.')}"), [document["id"]])
        document["file_name"] = file_name(document["url"], document.get("title"), document["versions"][0]["media_type"]
                                          if document["versions"] else None, document.get("metadata"), document["role"])
        for version in document["versions"]:
            version["cell_changes"] = _rows(conn, "SELECT report_table, row_key, column_key, old, new FROM cell_changes "
                                                  "WHERE version_id = ?", [version["id"]])
            for change in version["cell_changes"]:
                change["label"] = key_label(f"{change['report_table']}.{change['row_key']}.{change['column_key']}",
                                            version.get("template"))
            version["diff_lines"] = diff_lines(version.get("text_diff"))
    return documents


def fold_identical(conn, documents: list[dict]) -> list[dict]:
    """One entry per distinct file: a document whose current bytes another one of the report already shows
    (the same file fetched at a second URL) is folded into it, and every other address the same bytes were
    fetched at, in this report or another, is listed under ``also_seen_at``."""
    shown: dict[str, dict] = {}
    for document in documents:
        sha256 = document["versions"][0]["sha256"] if document["versions"] else None
        if sha256 is None or sha256 not in shown:
            document["also_seen_at"] = []
            shown[sha256 or f"none-{document['id']}"] = document
    for sha256, document in shown.items():
        if document["versions"]:
            document["also_seen_at"] = _rows(conn, (
                "SELECT d.url, d.report_id, d.role, min(v.first_seen) AS first_seen, max(v.last_seen) AS last_seen "
                "FROM versions v JOIN documents d ON d.id = v.document_id WHERE v.sha256 = ? AND d.id != ? "
                "GROUP BY d.id ORDER BY first_seen, d.id"), [sha256, document["id"]])
    return list(shown.values())


def diff_lines(text_diff: str | None) -> list[tuple[str, str]]:
    """A unified diff as (kind, line): 'add', 'del', 'hunk' or 'same', for colouring."""
    kinds = []
    for line in (text_diff or "").splitlines():
        if line.startswith(("+++", "---")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        kinds.append((kind, line))
    return kinds


# ------------------------------------------------------------------ originals

_DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".ofd", ".zip", ".rar", ".txt", ".jpg",
                      ".jpeg", ".png", ".gif", ".tif", ".tiff")


def file_name(url: str | None, title: str | None, media_type: str | None, metadata=None, role: str | None = None) -> str:
    """The name a document is offered under (archive/media.py cleans it): an attachment's own name (the
    server's Content-Disposition, else the link's text, else the URL's file name), a page's title; the
    report's title only when the file has no name of its own."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = None
    metadata = metadata if isinstance(metadata, dict) else {}
    media = stored_media_type(media_type)
    in_url = unquote(posixpath.basename(urlsplit(url or "").path))
    in_url = in_url if in_url.lower().endswith(_DOCUMENT_SUFFIXES) else None
    if role == "page" or (role is None and media == "text/html"):
        candidates = [title, in_url]
    else:
        candidates = [metadata.get("filename"), metadata.get("link_text"), in_url, title]
    return offered_name(candidates, media)


def blob_info(conn, sha256: str) -> dict | None:
    """Media type (from the allow-list) and real file name of an archived payload (from the newest document that
    holds it)."""
    info = _row(conn, "SELECT b.media_type, d.url, d.title, d.metadata, d.role FROM blobs b "
                      "LEFT JOIN versions v ON v.sha256 = b.sha256 "
                      "LEFT JOIN documents d ON d.id = v.document_id WHERE b.sha256 = ? ORDER BY v.id DESC LIMIT 1",
                [sha256])
    if info is None:
        return None
    return {"media_type": stored_media_type(info["media_type"]),
            "file_name": file_name(info["url"], info["title"], info["media_type"], info["metadata"], info["role"])}


# ------------------------------------------------------------------ agencies and regions

def agency(conn, agency_id: int) -> dict | None:
    head = _row(conn, "SELECT * FROM agencies WHERE id = ?", [agency_id])
    if head is None:
        return None
    history = agency_history(conn, agency_id)
    return {"agency": head, "history": history,
            "breaks": [h["year"] for h in history if h["continuity"] == "broken"],
            "incomplete": incomplete(conn, f"FROM report_figures f {_SOURCE_VERSION} WHERE r.agency_id = :agency",
                                     {"agency": agency_id})}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def agency_lookup(conn, q: str, limit: int = 100) -> list[dict]:
    """Agencies whose name holds `q` anywhere (嘉兴 finds 嘉兴市科学技术局), short forms and official
    names alike (科技局 finds 科学技术局 and the other way round: archive/agency_names.py)."""
    from .agency_names import name_variants

    names = name_variants(q)
    if not names:
        return []
    where = " OR ".join("a.name LIKE ? ESCAPE '\\'" for _ in names)
    return _rows(conn, "SELECT a.id, a.name, a.province, a.city, a.county, count(r.id) AS reports, "
                       "min(r.year) AS first_year, max(r.year) AS last_year FROM agencies a "
                       f"LEFT JOIN reports r ON r.agency_id = a.id WHERE {where} "
                       "GROUP BY a.id ORDER BY a.name LIMIT ?", [*map(_like, names), limit])


LEVELS = ("province", "city", "county")


def region_known(conn, province: str | None, city: str | None, county: str | None) -> bool:
    """Whether an agency of the archive is in the region named (every region, when none is named)."""
    chosen = {"province": province, "city": city, "county": county}
    of_agency = " AND ".join(f"(a.{level} = :{level} OR :{level} IS NULL)" for level in LEVELS)
    return not any(chosen.values()) or _row(conn, f"SELECT 1 FROM agencies a WHERE {of_agency} LIMIT 1", chosen) is not None


def region(conn, province: str | None, city: str | None, county: str | None) -> dict | None:
    """A region's figures over the years and the regions one level down, for drilling in; None when no
    agency of the archive is in the region named (火星, or a county under the wrong city)."""
    chosen = {"province": province, "city": city, "county": county}
    where = " AND ".join(f"({level} = :{level} OR :{level} IS NULL)" for level in LEVELS)
    of_agency = " AND ".join(f"(a.{level} = :{level} OR :{level} IS NULL)" for level in LEVELS)
    if not region_known(conn, province, city, county):
        return None
    of_figures = " AND ".join(f"(f.{level} = :{level} OR :{level} IS NULL)" for level in LEVELS)
    history = _rows(conn, (
        "SELECT f.year, count(*) AS reports, sum(applications_received) AS applications_received, "
        "sum(granted) AS granted, sum(total_processed) AS total_processed, sum(review_total) AS review_total, "
        "sum(coalesce(litigation_direct_total, 0) + coalesce(litigation_after_review_total, 0)) AS litigation_total, "
        "sum(applications_received IS NULL) AS unread, sum(v.extract_status = 'partial') AS partial, "
        "sum(f.check_status = 'not_assessable') AS not_assessable "
        f"FROM report_figures f {_SOURCE_VERSION} WHERE {of_figures} GROUP BY f.year ORDER BY f.year"), chosen)
    depth = next((i for i, level in enumerate(LEVELS) if not chosen[level]), len(LEVELS))
    below = []
    if depth < len(LEVELS):
        level = LEVELS[depth]
        below = _rows(conn, (f"SELECT {level} AS name, count(DISTINCT agency) AS agencies, count(*) AS reports, "
                             f"min(year) AS first_year, max(year) AS last_year FROM report_figures "
                             f"WHERE {where} AND {level} IS NOT NULL GROUP BY {level} ORDER BY {level}"), chosen)
    agencies = _rows(conn, ("SELECT a.id, a.name, count(r.id) AS reports, max(r.year) AS last_year FROM agencies a "
                            f"JOIN reports r ON r.agency_id = a.id WHERE {of_agency} GROUP BY a.id ORDER BY a.name"),
                     chosen)
    trail = [(level, chosen[level]) for level in LEVELS if chosen[level]]
    return {**chosen, "history": history, "below": below, "below_level": LEVELS[depth] if depth < 3 else None,
            "agencies": agencies, "trail": trail,
            "incomplete": incomplete(conn, f"FROM report_figures f {_SOURCE_VERSION} WHERE {of_figures}", chosen)}


# a report's figures and the version they come from (its extract_status says 'partial' when rows were left out)
_SOURCE_VERSION = "JOIN reports r ON r.id = f.report_id LEFT JOIN versions v ON v.id = r.source_version_id"


def incomplete(conn, source: str, params) -> dict:
    """How many reports lack part of their tables: read in part (`partial`) or not checkable, and which."""
    gap = "(v.extract_status = 'partial' OR f.check_status = 'not_assessable' OR v.extract_status IS NOT 'ok')"
    counts = _row(conn, f"SELECT count(*) AS reports, sum(v.extract_status = 'partial') AS partial, "
                        f"sum(f.check_status = 'not_assessable') AS not_assessable, sum({gap}) AS incomplete {source}",
                  params)
    listed = _rows(conn, f"SELECT f.report_id, f.agency, f.year, v.extract_status, f.check_status {source} AND {gap} "
                         "ORDER BY f.year DESC, f.agency LIMIT 100", params)
    return {**{k: v or 0 for k, v in counts.items()}, "listed": listed}


# ------------------------------------------------------------------ home

def home(conn) -> dict:
    coverage = _row(conn, "SELECT (SELECT count(*) FROM agencies) AS agencies, (SELECT count(*) FROM reports) AS reports, "
                          "(SELECT count(DISTINCT year) FROM reports) AS years, (SELECT min(year) FROM reports) AS first_year, "
                          "(SELECT max(year) FROM reports) AS last_year, "
                          "(SELECT count(DISTINCT province) FROM agencies) AS provinces, "
                          "(SELECT count(DISTINCT sha256) FROM versions) AS documents, "
                          "(SELECT count(*) FROM documents) AS addresses, "
                          "(SELECT count(*) FROM reports WHERE check_status = 'fail') AS failing")
    recent = ("SELECT r.id, r.title, a.name AS agency, r.year, {when} AS at FROM reports r "
              "JOIN agencies a ON a.id = r.agency_id {where} ORDER BY at DESC, r.id DESC LIMIT 8")
    return {
        "coverage": coverage,
        "years": _rows(conn, "SELECT year, count(*) AS reports FROM reports GROUP BY year ORDER BY year DESC"),
        "provinces": _rows(conn, "SELECT province, count(DISTINCT a.id) AS agencies, count(r.id) AS reports "
                                 "FROM agencies a JOIN reports r ON r.agency_id = a.id WHERE province IS NOT NULL "
                                 "GROUP BY province ORDER BY province"),
        "recently_added": _rows(conn, recent.format(when="r.first_seen", where="")),
        # a worked starting point from what the archive holds: the county with most reports in one year
        "example": _row(conn, "SELECT a.province, a.city, a.county, r.year, count(*) AS reports FROM reports r "
                              "JOIN agencies a ON a.id = r.agency_id WHERE a.county IS NOT NULL "
                              "GROUP BY a.county, r.year ORDER BY reports DESC, r.year DESC LIMIT 1"),
        "recently_revised": _rows(conn, recent.format(
            when="(SELECT max(v.first_seen) FROM version_changes c JOIN versions v ON v.id = c.version_id "
                 "JOIN documents d ON d.id = v.document_id WHERE d.report_id = r.id)",
            where=f"WHERE {REVISED}")),
    }
