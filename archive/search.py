"""Chinese full-text search over the reports, current and earlier versions, ranked by bm25.

FTS5's trigram tokenizer finds terms of three or more characters, but nothing
shorter (SQLite 3.40: MATCH and LIKE both come back empty for 复议). So there are
three indexes over the same rows: ``search_trigram`` for terms of 3+ characters,
``search_pairs``, where every two adjacent CJK characters are a token, for 2-character
terms (one token's list: a phrase of two common characters such as 议政 had to merge the
positions of two lists that hold nearly every report), and ``search_chars``, where every
CJK character is a token of its own, for 1 character and other short terms. The index that
holds the query's longest terms drives the query and ranks it (bm25); the others only filter.

``search_reports`` holds one small row per searchable text (``search_texts`` the text): each
report's current source version (``rowid`` = the report's id) and every earlier version of a
document that has since changed. Earlier versions have indexes of their own
(``search_trigram_earlier``, ``search_chars_earlier``), so the indexes of current texts answer
counts and rankings alone. A hit in an earlier version counts only when the report's current
text does not match; such hits are marked and listed after the current ones.

A query's terms are its words split at spaces, a phrase in quotes (“…”, "…", 「…」, 『…』) kept whole as one
term; every term must appear. Filters narrow by region, year, template, check status, agency (any part of
its name, short forms too: ``archive/agency_names.py``) and published date.

Cost is bounded for terms found in nearly every report: the count stops at ``COUNT_CAP`` (10,000+),
bm25 ranks the ``RANK_CAP`` (3,000) most recently archived matches, and sorting by year walks the year
index, probing the full-text index row by row, until a page is full.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field

from .versions import current_version_sql

CJK = re.compile(r"([\u3400-\u9fff\uf900-\ufaff])")
PAGE = 50
COUNT_CAP = 10_000  # past this the count says "10,000+" (counting a word in every report costs a full pass)
RANK_CAP = 3_000  # a term in more reports is ranked among its 3,000 most recently archived
EARLIER_CAP = 200  # earlier versions considered per query
SNIPPET_CHARS = 48
SORTS = {"relevance", "newest", "oldest"}

# One row per text: the report's current source version, then every version of a document that is not its current
# one (archive/versions.py: after A, B, A it is B that is earlier)
_SOURCE = """
SELECT r.id, r.id, r.source_version_id, 1, a.name, r.year, a.province, a.city, a.county, r.title, r.template,
       r.check_status, r.first_seen, v.first_seen, NULL
FROM reports r JOIN agencies a ON a.id = r.agency_id LEFT JOIN versions v ON v.id = r.source_version_id
"""
_EARLIER = """
SELECT NULL, r.id, v.id, 0, a.name, r.year, a.province, a.city, a.county, r.title, r.template,
       r.check_status, r.first_seen, v.first_seen, r.id
FROM versions v JOIN documents d ON d.id = v.document_id JOIN reports r ON r.id = d.report_id
JOIN agencies a ON a.id = r.agency_id
WHERE v.text IS NOT NULL AND v.id != coalesce(r.source_version_id, 0)
  AND v.id != {current}
ORDER BY v.id
""".format(current=current_version_sql("v.document_id"))
COLUMNS = ("rowid INTEGER PRIMARY KEY, report_id INTEGER, version_id INTEGER, is_latest INTEGER, agency TEXT, "
           "year INTEGER, province TEXT, city TEXT, county TEXT, title TEXT, template TEXT, check_status TEXT, "
           "report_first_seen TEXT, version_first_seen TEXT, latest_rowid INTEGER")
TABLES = ("search_trigram", "search_pairs", "search_chars", "search_trigram_earlier", "search_pairs_earlier",
          "search_chars_earlier", "search_texts", "search_reports")
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")


def spaced(text: str) -> str:
    """Every CJK character a token of its own, for the unicode61 tokenizer."""
    return CJK.sub(r" \1 ", text)


def pairs(text: str) -> str:
    """Every two adjacent CJK characters, a token each (复议政 → "复议 议政")."""
    return " ".join(run[i : i + 2] for run in CJK_RUN.findall(text) for i in range(len(run) - 1))


def cjk_pair(term: str) -> bool:
    return len(term) == 2 and CJK_RUN.fullmatch(term) is not None


def create(db) -> None:
    for name in TABLES:
        db.execute(f"DROP TABLE IF EXISTS {name}")
    db.execute(f"CREATE TABLE search_reports ({COLUMNS})")
    db.execute("CREATE TABLE search_texts (rowid INTEGER PRIMARY KEY, text TEXT)")


def build(db) -> int:
    """(Re)build the search tables from the archive. Returns the number of reports indexed."""
    with db.conn:
        create(db)
        db.execute(f"INSERT INTO search_reports {_SOURCE}")
        db.execute("INSERT INTO search_texts SELECT r.id, coalesce(v.text, '') FROM reports r "
                   "LEFT JOIN versions v ON v.id = r.source_version_id")
        for row in db.conn.execute(_EARLIER).fetchall():
            rowid = db.conn.execute(f"INSERT INTO search_reports VALUES ({','.join('?' * 15)})",
                                    row).lastrowid
            db.conn.execute("INSERT INTO search_texts VALUES (?, (SELECT text FROM versions WHERE id = ?))",
                            [rowid, row[2]])
    return index(db)


def index(db) -> int:
    """The full-text indexes over ``search_reports`` / ``search_texts``, and the filter indexes."""
    with db.conn:
        for suffix, latest in (("", 1), ("_earlier", 0)):
            db.execute(f"CREATE VIRTUAL TABLE search_trigram{suffix} USING fts5(title, agency, text, content='', "
                       "tokenize='trigram')")
            db.execute(f"CREATE VIRTUAL TABLE search_chars{suffix} USING fts5(body, content='', tokenize='unicode61')")
            rows = db.conn.execute("SELECT s.rowid, s.title, s.agency, t.text FROM search_reports s "
                                   f"JOIN search_texts t ON t.rowid = s.rowid WHERE s.is_latest = {latest}")
            for rid, title, agency, text in rows:  # streamed
                db.conn.execute(f"INSERT INTO search_trigram{suffix}(rowid, title, agency, text) VALUES (?, ?, ?, ?)",
                                (rid, title, agency, text))
                db.conn.execute(f"INSERT INTO search_chars{suffix}(rowid, body) VALUES (?, ?)",
                                (rid, spaced(f"{title}\n{agency}\n{text}")))
        for columns in ("is_latest, year", "province", "city", "template", "check_status", "report_id"):
            name = columns.replace(", ", "_")
            db.execute(f"CREATE INDEX IF NOT EXISTS search_reports_{name} ON search_reports({columns})")
    index_pairs(db)
    return db.execute("SELECT count(*) FROM search_reports WHERE is_latest = 1").fetchone()[0]


def index_pairs(db) -> None:
    """The index of adjacent-character pairs (added on its own to an index built without it)."""
    with db.conn:
        for suffix, latest in (("", 1), ("_earlier", 0)):
            db.execute(f"DROP TABLE IF EXISTS search_pairs{suffix}")
            db.execute(f"CREATE VIRTUAL TABLE search_pairs{suffix} USING fts5(body, content='', tokenize='unicode61')")
            rows = db.conn.execute("SELECT s.rowid, s.title, s.agency, t.text FROM search_reports s "
                                   f"JOIN search_texts t ON t.rowid = s.rowid WHERE s.is_latest = {latest}")
            for rid, title, agency, text in rows:  # streamed
                db.conn.execute(f"INSERT INTO search_pairs{suffix}(rowid, body) VALUES (?, ?)",
                                (rid, pairs(f"{title}\n{agency}\n{text}")))
        db.execute("INSERT INTO search_pairs(search_pairs) VALUES ('optimize')")


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


# A phrase in quotes is one term, as typed: “行政复议”, "行政复议", 「行政复议」, 『…』, ‘…’, ＂…＂.
QUOTES = {"“": "”", '"': '"', "「": "」", "『": "』", "‘": "’", "＂": "＂", "«": "»"}
_QUOTED = re.compile("|".join(f"{re.escape(o)}([^{re.escape(c)}]*){re.escape(c)}" for o, c in QUOTES.items()))
_STRAY = "".join(QUOTES) + "".join(QUOTES.values())


def terms_of(q: str) -> list[str]:
    """The terms of a query: words split at spaces, a quoted phrase kept whole, stray quote marks dropped."""
    terms, last = [], 0
    for match in _QUOTED.finditer(q or ""):
        terms += (q[last : match.start()]).split()
        terms.append(" ".join(next(g for g in match.groups() if g is not None).split()))
        last = match.end()
    terms += (q or "")[last:].split()
    return [t for t in (term.strip(_STRAY + " ") for term in terms) if t][:10]


INDEXES = ("trigram", "pairs", "chars")  # the first with terms of the query drives it


def fts_queries(q: str) -> dict[str, str | None]:
    """The MATCH expression for each index (None when the query has no term for it)."""
    terms = terms_of(q)
    chosen = {
        "trigram": [_quote(t) for t in terms if len(t) >= 3],
        "pairs": [_quote(t) for t in terms if cjk_pair(t)],
        "chars": [_quote(spaced(t).strip()) for t in terms if len(t) < 3 and not cjk_pair(t)],
    }
    return {name: " AND ".join(chosen[name]) or None for name in INDEXES}


@dataclass
class Filters:
    year: int | None = None
    province: str | None = None
    city: str | None = None
    county: str | None = None
    template: str | None = None
    check_status: str | None = None
    agency: str | None = None  # any part of the name, short forms included (科技局 finds 科学技术局)
    published_from: str | None = None  # YYYY-MM-DD, inclusive
    published_to: str | None = None

    def active(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}

    def agency_names(self) -> list[str]:
        from .agency_names import name_variants

        return name_variants(self.agency) if self.agency else []

    def params(self) -> dict:
        """The SQL parameters of `sql()`."""
        params = {k: v for k, v in self.active().items() if k != "agency"}
        for i, name in enumerate(self.agency_names()):
            params[f"agency_{i}"] = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return params

    def sql(self, alias: str = "s") -> str:
        parts = [f"AND {alias}.{name} = :{name}" for name in self.active() if name in EXACT_FILTERS]
        if self.agency:
            parts.append("AND (" + " OR ".join(f"{alias}.agency LIKE :agency_{i} ESCAPE '\\'"
                                                for i in range(len(self.agency_names()))) + ")")
        bounds = [f"substr(r.published, 1, 10) {op} :{name}" for name, op in (("published_from", ">="), ("published_to", "<="))
                  if getattr(self, name) is not None]
        if bounds:  # a report whose date is unknown is outside any range
            parts.append(f"AND {alias}.report_id IN (SELECT r.id FROM reports r WHERE {' AND '.join(bounds)})")
        return " ".join(parts)


EXACT_FILTERS = ("year", "province", "city", "county", "template", "check_status")


@dataclass
class Results:
    q: str
    total: int
    capped: bool
    rows: list[dict] = field(default_factory=list)
    earlier: int = 0


def _matches(queries: dict, suffix="") -> tuple[str, str]:
    """(table, WHERE) selecting the rowids whose text holds every term, in one family of indexes."""
    used = [name for name in INDEXES if queries[name]]
    driver = f"search_{used[0]}{suffix}"
    where = f"{driver} MATCH :{used[0]}"
    for name in used[1:]:
        where += f" AND rowid IN (SELECT rowid FROM search_{name}{suffix} WHERE search_{name}{suffix} MATCH :{name})"
    return driver, where


def _current(db, params, filters: Filters, sort: str, limit: int, offset: int, queries) -> tuple[int, list[int]]:
    driver, where = _matches(queries)
    matching = f"SELECT rowid FROM {driver} WHERE {where}"
    if filters.active():  # the filtered rows, walked by index, against the set of matches (built once)
        counted = f"SELECT 1 FROM search_reports s WHERE s.is_latest = 1 {filters.sql()} AND s.rowid IN ({matching})"
    else:
        counted = matching
    total = db.execute(f"SELECT count(*) FROM ({counted} LIMIT {COUNT_CAP + 1})", params).fetchone()[0]
    if offset >= total and total <= COUNT_CAP:
        return total, []
    if sort == "relevance":
        sql = (f"WITH ranked AS MATERIALIZED (SELECT rowid, bm25({driver}) AS score FROM {driver} WHERE {where} "
               f"ORDER BY rowid DESC LIMIT {RANK_CAP}) "
               "SELECT ranked.rowid FROM ranked" + (" JOIN search_reports s ON s.rowid = ranked.rowid WHERE 1 "
                                                    + filters.sql() if filters.active() else "")
               + " ORDER BY score, ranked.rowid DESC LIMIT :limit OFFSET :offset")
    else:
        direction = "DESC" if sort == "newest" else "ASC"
        if total > COUNT_CAP:  # a common word: walk the year index, probing the index per row, stop at a page
            member = f"EXISTS (SELECT 1 FROM {driver} WHERE {where} AND rowid = s.rowid)"
        else:  # a rarer one: the set of matches, built once, against the year index
            member = f"s.rowid IN ({matching})"
        sql = (f"SELECT s.rowid FROM search_reports s WHERE s.is_latest = 1 {filters.sql()} "
               f"AND {member} ORDER BY s.year {direction}, s.rowid DESC LIMIT :limit OFFSET :offset")
    return total, [r[0] for r in db.execute(sql, {**params, "limit": limit, "offset": offset})]


def _earlier(db, params, filters: Filters, sort: str, queries) -> list[int]:
    """Earlier versions holding the terms, of reports whose current text does not."""
    driver, where = _matches(queries, "_earlier")
    current, current_where = _matches(queries)
    order = {"newest": "s.year DESC,", "oldest": "s.year ASC,"}.get(sort, "")
    sql = (f"SELECT s.rowid FROM (SELECT rowid FROM {driver} WHERE {where} ORDER BY rowid DESC LIMIT {EARLIER_CAP}) e "
           f"JOIN search_reports s ON s.rowid = e.rowid WHERE 1 {filters.sql()} "
           f"AND NOT EXISTS (SELECT 1 FROM {current} WHERE {current_where} AND rowid = s.latest_rowid) "
           f"GROUP BY s.report_id ORDER BY {order} max(s.rowid) DESC")
    return [r[0] for r in db.execute(sql, params)]


def search_page(db, q: str, filters: Filters | None = None, sort: str = "relevance", page: int = 1,
                limit: int = PAGE) -> Results:
    """One page of the reports whose title, agency or text hold every term of `q`: current hits
    first (by bm25, or by year), then reports found only in an earlier version."""
    filters = filters or Filters()
    queries = fts_queries(q)
    if not any(queries.values()):
        return Results(q, 0, False)
    sort = sort if sort in SORTS else "relevance"
    params = {**queries, **filters.params()}
    offset = max(page - 1, 0) * limit
    total, rowids = _current(db, params, filters, sort, limit, offset, queries)
    earlier = _earlier(db, params, filters, sort, queries)
    if len(rowids) < limit:
        rowids += earlier[max(offset - total, 0):][: limit - len(rowids)]
    rows = _rows(db, rowids)
    terms = terms_of(q)
    for row in rows:
        row["earlier_version"] = not row.pop("is_latest")
        row["snippet"] = snippet(row.pop("text") or row["title"] or "", terms)
    return Results(q, min(total, COUNT_CAP) + len(earlier), total > COUNT_CAP, rows, len(earlier))


def _rows(db, rowids: list[int]) -> list[dict]:
    if not rowids:
        return []
    cursor = db.execute(
        "SELECT s.rowid AS rowid_, s.report_id, s.version_id, s.is_latest, s.agency, s.year, s.province, s.city, "
        "s.county, s.title, s.template, s.check_status, s.report_first_seen, s.version_first_seen, t.text "
        f"FROM search_reports s JOIN search_texts t ON t.rowid = s.rowid WHERE s.rowid IN ({','.join('?' * len(rowids))})",
        rowids)
    names = [c[0] for c in cursor.description]
    found = {r[0]: dict(zip(names, r)) for r in cursor}
    rows = [found[r] for r in rowids if r in found]
    for row in rows:
        row.pop("rowid_")
    return rows


def search(db, q: str, year: int | None = None, province: str | None = None, limit: int = PAGE) -> list[dict]:
    """The first page of hits, best first (kept for callers that want rows only)."""
    return search_page(db, q, Filters(year=year, province=province), limit=limit).rows


def like_scan(db, q: str, limit: int = PAGE) -> list[int]:
    """The baseline the indexes are measured against: a LIKE over every current text."""
    terms = terms_of(q)
    where = " AND ".join("(s.title || s.agency || t.text) LIKE ?" for _ in terms) or "0"
    return [r[0] for r in db.execute(f"SELECT s.report_id FROM search_reports s JOIN search_texts t ON t.rowid = s.rowid "
                                     f"WHERE s.is_latest = 1 AND {where} ORDER BY s.year DESC LIMIT {limit}",
                                     [f"%{t}%" for t in terms])]


# ------------------------------------------------------------------ snippets

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


_DELIMITERS = "。；;！？!?\n\t|"
HITS_CONSIDERED = 40  # passages around the first 40 hits of each term: enough, and bounded for a common term


_DELIMITER = re.compile("[" + re.escape(_DELIMITERS) + "]")


def _passage_around(stops: list[int], length: int, at: int) -> tuple[int, int]:
    """The sentence holding position `at`, given the sorted positions of every delimiter (`stops`)."""
    i = bisect.bisect_left(stops, at)
    return (stops[i - 1] + 1 if i else 0), (stops[i] + 1 if i < len(stops) else length)


def best_passage(text: str, terms: list[str]) -> tuple[int, int]:
    """(start, end) of the passage with the most distinct query terms, prose before labels."""
    lowered, lowered_terms = text.lower(), [t.lower() for t in terms]
    stops = [m.start() for m in _DELIMITER.finditer(text)]  # once per text, not once per hit
    spans = set()
    for term in lowered_terms:
        at = lowered.find(term)
        for _ in range(HITS_CONSIDERED):
            if at < 0:
                break
            spans.add(_passage_around(stops, len(text), at))
            at = lowered.find(term, at + len(term))
    best, best_score = (0, min(len(text), 2 * SNIPPET_CHARS)), None
    for start, end in sorted(spans):
        passage = lowered[start:end]
        score = (sum(1 for t in lowered_terms if t in passage), not boilerplate(text[start:end]),
                 any(c.isdigit() for c in passage), sum(passage.count(t) for t in lowered_terms))
        if best_score is None or score > best_score:
            best, best_score = (start, end), score
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
