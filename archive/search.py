"""Chinese full-text search over the reports, for queries of any length.

FTS5's trigram tokenizer finds terms of three or more characters, but nothing
shorter (SQLite 3.40: MATCH and LIKE both come back empty for 复议). So there are
two indexes over the same text: ``search_trigram`` for terms of 3+ characters, and
``search_chars``, where every CJK character is a token of its own, for 1- and
2-character terms (a phrase query on single characters). Queries are driven from
one FTS table in rowid order with a LIMIT, so a term found in every report stops
after one page of hits instead of scanning them all.
"""

from __future__ import annotations

import html
import re

CJK = re.compile(r"([\u3400-\u9fff\uf900-\ufaff])")
PAGE = 50
SNIPPET_CHARS = 40

_SOURCE = """
SELECT r.id AS report_id, a.name AS agency, r.year, a.province, a.city, a.county, r.title, r.template,
       r.check_status, coalesce(v.text, '') AS text
FROM reports r JOIN agencies a ON a.id = r.agency_id LEFT JOIN versions v ON v.id = r.source_version_id
"""


def spaced(text: str) -> str:
    """Every CJK character a token of its own, for the unicode61 tokenizer."""
    return CJK.sub(r" \1 ", text)


def build(db) -> int:
    """(Re)build the search tables from the reports' source versions. Returns the rows indexed."""
    with db.conn:
        for name in ("search_trigram", "search_chars", "search_reports"):
            db.execute(f"DROP TABLE IF EXISTS {name}")
        db.execute(
            "CREATE TABLE search_reports (report_id INTEGER PRIMARY KEY, agency TEXT, year INTEGER, province TEXT, "
            "city TEXT, county TEXT, title TEXT, template TEXT, check_status TEXT, text TEXT)"
        )
        db.execute(f"INSERT INTO search_reports {_SOURCE}")
    return index(db)


def index(db) -> int:
    """The two full-text indexes over ``search_reports``."""
    with db.conn:
        db.execute(
            "CREATE VIRTUAL TABLE search_trigram USING fts5(title, agency, text, content='search_reports', "
            "content_rowid='report_id', tokenize='trigram')"
        )
        db.execute("INSERT INTO search_trigram(search_trigram) VALUES ('rebuild')")
        db.execute("CREATE VIRTUAL TABLE search_chars USING fts5(body, content='', tokenize='unicode61')")
        rows = db.conn.execute("SELECT report_id, title, agency, text FROM search_reports")  # streamed
        db.conn.executemany(
            "INSERT INTO search_chars(rowid, body) VALUES (?, ?)",
            ((rid, spaced(f"{title}\n{agency}\n{text}")) for rid, title, agency, text in rows),
        )
        db.execute("CREATE INDEX IF NOT EXISTS search_reports_year ON search_reports(year)")
        db.execute("CREATE INDEX IF NOT EXISTS search_reports_province ON search_reports(province)")
    return db.execute("SELECT count(*) FROM search_reports").fetchone()[0]


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_queries(q: str) -> tuple[str | None, str | None]:
    """The MATCH expressions for the trigram and the character index (None when unused)."""
    terms = [t for t in q.split() if t]
    long_terms = [_quote(t) for t in terms if len(t) >= 3]
    short_terms = [_quote(spaced(t).strip()) for t in terms if len(t) < 3]
    return (" AND ".join(long_terms) or None), (" AND ".join(short_terms) or None)


def search(db, q: str, year: int | None = None, province: str | None = None, limit: int = PAGE) -> list[dict]:
    """Reports whose title, agency or text hold every term of `q`, newest archived first."""
    trigram, chars = fts_queries(q or "")
    if not trigram and not chars:
        return []
    driver, other = ("search_trigram", "search_chars") if trigram else ("search_chars", None)
    params: dict = {"drive": trigram or chars, "other": chars if trigram else None, "year": year,
                    "province": province, "limit": limit}
    sql = (
        f"SELECT s.report_id, s.agency, s.year, s.province, s.city, s.title, s.template, s.check_status, s.text "
        f"FROM {driver} f JOIN search_reports s ON s.report_id = f.rowid WHERE {driver} MATCH :drive "
    )
    if other and params["other"]:
        sql += f"AND f.rowid IN (SELECT rowid FROM {other} WHERE {other} MATCH :other) "
    sql += "AND (:year IS NULL OR s.year = :year) AND (:province IS NULL OR s.province = :province) "
    sql += "ORDER BY f.rowid DESC LIMIT :limit"
    rows = [dict(zip([c[0] for c in cursor.description], r)) for cursor in [db.execute(sql, params)] for r in cursor]
    terms = [t for t in q.split() if t]
    for row in rows:
        row["snippet"] = snippet(f"{row['title']}\n{row.pop('text')}", terms)
    return rows


def snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """Escaped HTML around the first hit, every term in <mark>."""
    lowered = text.lower()
    hits = [lowered.find(t.lower()) for t in terms if lowered.find(t.lower()) >= 0]
    start = max(min(hits) - width, 0) if hits else 0
    window = text[start : start + 2 * width + max((len(t) for t in terms), default=0)].replace("\n", " ")
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    out, last = [], 0
    for match in pattern.finditer(window):
        out.append(html.escape(window[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        last = match.end()
    out.append(html.escape(window[last:]))
    return ("…" if start else "") + "".join(out) + "…"
