"""Chinese full-text search over the reports, current and earlier versions, ranked by bm25.

FTS5's trigram tokenizer finds terms of three or more characters, but nothing
shorter (SQLite 3.40: MATCH and LIKE both come back empty for 复议). So there are
two indexes over the same rows: ``search_trigram`` for terms of 3+ characters, and
``search_chars``, where every CJK character is a token of its own, for 1- and
2-character terms (a phrase query on single characters). The index that holds the
query's longer terms drives the query and ranks it (bm25); the other only filters.

``search_reports`` holds one row per searchable text: each report's current source
version (``is_latest = 1``) and every earlier version of a document that has since
changed (``is_latest = 0``), so a report is found by wording it no longer has. An
earlier version is a hit only when the report's current text does not match too,
so a report appears once.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

CJK = re.compile(r"([\u3400-\u9fff\uf900-\ufaff])")
PAGE = 50
COUNT_CAP = 10_000  # counting past this costs a full pass for a word in every report; "10,000+" says enough
SNIPPET_CHARS = 48
SORTS = {"relevance": "f.rank, s.year DESC", "newest": "s.year DESC, f.rank", "oldest": "s.year ASC, f.rank"}

# One row per text: the report's current source version, then every superseded version of a document.
_SOURCE = """
SELECT r.id, r.id, r.source_version_id, 1, a.name, r.year, a.province, a.city, a.county, r.title, r.template,
       r.check_status, r.first_seen, v.first_seen, coalesce(v.text, ''), NULL
FROM reports r JOIN agencies a ON a.id = r.agency_id LEFT JOIN versions v ON v.id = r.source_version_id
"""
_EARLIER = """
SELECT NULL, r.id, v.id, 0, a.name, r.year, a.province, a.city, a.county, r.title, r.template,
       r.check_status, r.first_seen, v.first_seen, v.text, r.id
FROM versions v JOIN documents d ON d.id = v.document_id JOIN reports r ON r.id = d.report_id
JOIN agencies a ON a.id = r.agency_id
WHERE v.text IS NOT NULL AND v.id != coalesce(r.source_version_id, 0)
  AND EXISTS (SELECT 1 FROM versions newer WHERE newer.document_id = v.document_id AND newer.id > v.id)
ORDER BY v.id
"""
COLUMNS = ("rowid INTEGER PRIMARY KEY, report_id INTEGER, version_id INTEGER, is_latest INTEGER, agency TEXT, "
           "year INTEGER, province TEXT, city TEXT, county TEXT, title TEXT, template TEXT, check_status TEXT, "
           "report_first_seen TEXT, version_first_seen TEXT, text TEXT, latest_rowid INTEGER")


def spaced(text: str) -> str:
    """Every CJK character a token of its own, for the unicode61 tokenizer."""
    return CJK.sub(r" \1 ", text)


def build(db) -> int:
    """(Re)build the search tables from the archive. Returns the number of reports indexed.

    Current rows take the report's id as rowid, so an earlier version points at its report's
    current row (``latest_rowid``) without a lookup.
    """
    with db.conn:
        for name in ("search_trigram", "search_chars", "search_reports"):
            db.execute(f"DROP TABLE IF EXISTS {name}")
        db.execute(f"CREATE TABLE search_reports ({COLUMNS})")
        db.execute(f"INSERT INTO search_reports {_SOURCE}")
        db.execute(f"INSERT INTO search_reports {_EARLIER}")
    return index(db)


def index(db) -> int:
    """The two full-text indexes over ``search_reports``, and the filter indexes."""
    with db.conn:
        db.execute(
            "CREATE VIRTUAL TABLE search_trigram USING fts5(title, agency, text, content='search_reports', "
            "content_rowid='rowid', tokenize='trigram')"
        )
        db.execute("INSERT INTO search_trigram(search_trigram) VALUES ('rebuild')")
        db.execute("CREATE VIRTUAL TABLE search_chars USING fts5(body, content='', tokenize='unicode61')")
        rows = db.conn.execute("SELECT rowid, title, agency, text FROM search_reports")  # streamed
        db.conn.executemany(
            "INSERT INTO search_chars(rowid, body) VALUES (?, ?)",
            ((rid, spaced(f"{title}\n{agency}\n{text}")) for rid, title, agency, text in rows),
        )
        for column in ("year", "province", "city", "report_id"):
            db.execute(f"CREATE INDEX IF NOT EXISTS search_reports_{column} ON search_reports({column})")
    return db.execute("SELECT count(*) FROM search_reports WHERE is_latest = 1").fetchone()[0]


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def terms_of(q: str) -> list[str]:
    return [t for t in (q or "").split() if t][:10]


def fts_queries(q: str) -> tuple[str | None, str | None]:
    """The MATCH expressions for the trigram and the character index (None when unused)."""
    terms = terms_of(q)
    long_terms = [_quote(t) for t in terms if len(t) >= 3]
    short_terms = [_quote(spaced(t).strip()) for t in terms if len(t) < 3]
    return (" AND ".join(long_terms) or None), (" AND ".join(short_terms) or None)


@dataclass
class Filters:
    year: int | None = None
    province: str | None = None
    city: str | None = None
    template: str | None = None
    check_status: str | None = None

    def sql(self) -> str:
        return " ".join(f"AND s.{name} = :{name}" for name, value in vars(self).items() if value is not None)


@dataclass
class Results:
    q: str
    total: int
    capped: bool
    rows: list[dict] = field(default_factory=list)


def _plan(q: str, filters: Filters) -> tuple[str, dict] | None:
    """FROM … WHERE … of a search, with its parameters; None for a query with no terms."""
    trigram, chars = fts_queries(q)
    if not trigram and not chars:
        return None
    driver = "search_trigram" if trigram else "search_chars"
    params = {"drive": trigram or chars, "other": chars if trigram else None,
              **{k: v for k, v in vars(filters).items() if v is not None}}
    also = "AND {rowid} IN (SELECT rowid FROM search_chars WHERE search_chars MATCH :other) " if params["other"] else ""
    # an earlier version is a hit only when its report's current text is not
    current_matches = (f"EXISTS (SELECT 1 FROM {driver} f2 WHERE {driver} MATCH :drive AND f2.rowid = s.latest_rowid "
                       + also.format(rowid="f2.rowid") + ")")
    sql = (f"FROM {driver} f JOIN search_reports s ON s.rowid = f.rowid WHERE {driver} MATCH :drive "
           + also.format(rowid="f.rowid") + filters.sql()
           + f" AND (s.is_latest = 1 OR NOT {current_matches})")
    return sql, params


def search_page(db, q: str, filters: Filters | None = None, sort: str = "relevance", page: int = 1,
                limit: int = PAGE) -> Results:
    """One page of the reports whose title, agency or text hold every term of `q`."""
    filters = filters or Filters()
    plan = _plan(q, filters)
    if plan is None:
        return Results(q, 0, False)
    where, params = plan
    total = db.execute(f"SELECT count(*) FROM (SELECT 1 {where} LIMIT {COUNT_CAP + 1})", params).fetchone()[0]
    order = SORTS.get(sort, SORTS["relevance"])
    cursor = db.execute(
        "SELECT s.report_id, s.version_id, s.is_latest, s.agency, s.year, s.province, s.city, s.county, s.title, "
        f"s.template, s.check_status, s.report_first_seen, s.version_first_seen, s.text {where} "
        f"ORDER BY {order} LIMIT :limit OFFSET :offset",
        {**params, "limit": limit, "offset": max(page - 1, 0) * limit},
    )
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, r)) for r in cursor]
    terms = terms_of(q)
    for row in rows:
        row["earlier_version"] = not row.pop("is_latest")
        row["snippet"] = snippet(row.pop("text") or row["title"] or "", terms)
    return Results(q, min(total, COUNT_CAP), total > COUNT_CAP, rows)


def search(db, q: str, year: int | None = None, province: str | None = None, limit: int = PAGE) -> list[dict]:
    """The first page of hits, best first (kept for callers that want rows only)."""
    return search_page(db, q, Filters(year=year, province=province), limit=limit).rows


def like_scan(db, q: str, limit: int = PAGE) -> list[int]:
    """The baseline the indexes are measured against: a LIKE over every text."""
    terms = terms_of(q)
    where = " AND ".join("(title || agency || text) LIKE ?" for _ in terms) or "0"
    return [r[0] for r in db.execute(f"SELECT report_id FROM search_reports WHERE is_latest = 1 AND {where} "
                                     f"ORDER BY year DESC LIMIT {limit}", [f"%{t}%" for t in terms])]


# ------------------------------------------------------------------ snippets

_PASSAGE = re.compile(r"[^。；;！？!?\n\t|]+[。；;！？!?]?")
_HEADING = re.compile(r"^\s*[（(]?[一二三四五六七八九十]+[）)、.．]")
_FIGURES = re.compile(r"[\d\s./%-]")
# sentences every report carries word for word (the statutory preamble and notes)
STOCK_SENTENCES = ("本报告根据", "内容包括总体情况", "本报告所列数据", "本报告中所列数据", "如对本报告有任何疑问",
                   "本年报的电子版", "本报告的电子版")


def boilerplate(passage: str) -> bool:
    """A form label, a section heading or a row of figures: true of every report, so it says nothing."""
    words = _FIGURES.sub("", passage)
    return (len(words) < 14 or bool(_HEADING.match(passage)) and len(passage) < 40
            or any(stock in passage for stock in STOCK_SENTENCES))


def best_passage(text: str, terms: list[str]) -> tuple[int, int]:
    """(start, end) of the passage with the most distinct query terms, prose before labels."""
    lowered_terms = [t.lower() for t in terms]
    best, best_score = (0, min(len(text), 2 * SNIPPET_CHARS)), None
    for match in _PASSAGE.finditer(text):
        passage = match.group().lower()
        distinct = sum(1 for t in lowered_terms if t in passage)
        if not distinct:
            continue
        score = (distinct, not boilerplate(match.group()), any(c.isdigit() for c in passage),
                 sum(passage.count(t) for t in lowered_terms))
        if best_score is None or score > best_score:
            best, best_score = match.span(), score
    return best


def snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """Escaped HTML of the most telling passage, every term in <mark>."""
    start, end = best_passage(text, terms)
    if end - start > 3 * width:  # a long passage: centre on its first hit
        lowered = text[start:end].lower()
        first = min((lowered.find(t.lower()) for t in terms if t.lower() in lowered), default=0)
        start = start + max(first - width, 0)
        end = min(end, start + 3 * width)
    window = text[start:end].replace("\n", " ").strip()
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    out, last = [], 0
    for match in pattern.finditer(window):
        out.append(html.escape(window[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        last = match.end()
    out.append(html.escape(window[last:]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")
