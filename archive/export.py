"""Exports: one canonical record per report (its latest source version) as JSON lines, or CSV."""

from __future__ import annotations

import csv
import json
from typing import IO

from .store import Archive

_REPORTS = """
SELECT r.id, r.title, r.year, r.template, r.published, r.first_seen, r.last_seen, r.source_version_id,
       r.source_reason, r.check_status, a.name AS agency, a.region,
       (SELECT d.url FROM documents d WHERE d.report_id = r.id ORDER BY d.role = 'page' DESC, d.id LIMIT 1) AS url,
       -- the report's contents over time: 1, plus one for each later version of any of its documents
       1 + (SELECT count(*) FROM versions v JOIN documents d ON d.id = v.document_id WHERE d.report_id = r.id)
         - (SELECT count(DISTINCT v.document_id) FROM versions v JOIN documents d ON d.id = v.document_id
            WHERE d.report_id = r.id) AS versions,
       (SELECT v.record FROM versions v WHERE v.id = r.source_version_id) AS record
FROM reports r JOIN agencies a ON a.id = r.agency_id ORDER BY a.name, r.year
"""


def records(archive: Archive):
    """Each report's canonical record; identity (agency, year, title) is the crawl's."""
    for row in archive.db.query(_REPORTS):
        record = json.loads(row["record"]) if row["record"] else {"warnings": ["no document of this report could be read"]}
        record.update({"title": row["title"], "agency": row["agency"], "year": row["year"]})
        record.setdefault("template", row["template"] or "unknown")
        record["published"] = record.get("published") or row["published"]
        record.update({
            "url": row["url"],
            "region": row["region"],
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
            "versions": row["versions"],
            "source_reason": row["source_reason"],
        })
        yield record


def write_jsonl(archive: Archive, out: IO[str]) -> int:
    n = 0
    for record in records(archive):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(archive: Archive, out: IO[str]) -> int:
    rows = list(archive.db.query("SELECT * FROM report_figures ORDER BY agency, year"))
    if not rows:
        return 0
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return len(rows)
