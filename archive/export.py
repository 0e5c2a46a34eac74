"""Exports: one canonical record per report (its latest source version) as JSON lines, or CSV.

Every row carries ``archive_url`` beside the portal's ``url``: the archived copy the figures came from,
served by the site (``NIANBAO_PUBLIC_URL``, default the local ``nianbao serve`` address), which stays
readable when the portal has moved or changed the file.

The CSV is meant for Excel too, so a text cell that Excel would read as a formula (one starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading ``'``, the usual guard;
a cell that is a number (``-3``, ``+1.5``) is left as it is.
"""

from __future__ import annotations

import csv
import json
import re
from typing import IO

from .site_config import LOCAL_URL as LOCAL_SITE  # noqa: F401 - `nianbao serve`'s own address, when nothing is set
from .site_config import links_base
from .store import Archive
from .versions import report_versions_sql

_REPORTS = f"""
SELECT r.id, r.title, r.year, r.template, r.published, r.first_seen, r.last_seen, r.source_version_id,
       r.source_reason, r.check_status, r.conflict_of, a.name AS agency, a.region,
       (SELECT d.url FROM documents d WHERE d.report_id = r.id ORDER BY d.role = 'page' DESC, d.id LIMIT 1) AS url,
       {report_versions_sql()} AS versions,
       (SELECT v.record FROM versions v WHERE v.id = r.source_version_id) AS record,
       (SELECT v.sha256 FROM versions v WHERE v.id = r.source_version_id) AS sha256
FROM reports r JOIN agencies a ON a.id = r.agency_id ORDER BY a.name, r.year, r.id
"""


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell Excel will not run: text starting like a formula gets a leading ``'``; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def public_url() -> str:
    return links_base()


def archive_url(sha256: str | None) -> str | None:
    return f"{public_url()}/-/blob/{sha256}" if sha256 else None


def records(archive: Archive):
    """Each report's canonical record; identity (agency, year, title) is the crawl's."""
    for row in archive.db.query(_REPORTS):
        record = json.loads(row["record"]) if row["record"] else {"warnings": ["no document of this report could be read"]}
        record.update({"title": row["title"], "agency": row["agency"], "year": row["year"]})
        record.setdefault("template", row["template"] or "unknown")
        record["published"] = record.get("published") or row["published"]
        record.update({
            "url": row["url"],
            "archive_url": archive_url(row["sha256"]),
            "region": row["region"],
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
            "versions": row["versions"],
            "source_reason": row["source_reason"],
        })
        if row["conflict_of"]:
            # another document claims the same agency and year: both are kept, each its own record
            record["conflict_of_report"] = row["conflict_of"]
        yield record


def write_jsonl(archive: Archive, out: IO[str]) -> int:
    n = 0
    for record in records(archive):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(archive: Archive, out: IO[str]) -> int:
    rows = archive.db.query(
        "SELECT f.*, v.sha256 FROM report_figures f JOIN reports r ON r.id = f.report_id "
        "LEFT JOIN versions v ON v.id = r.source_version_id ORDER BY f.agency, f.year")
    writer, n = None, 0
    for row in rows:  # streamed: one row at a time
        sha256 = row.pop("sha256")
        row = {k: spreadsheet_safe(v) for k, v in row.items()} | {"archive_url": archive_url(sha256)}
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row))
            writer.writeheader()
        writer.writerow(row)
        n += 1
    return n
