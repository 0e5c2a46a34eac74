"""What extraction read from each version. Tables owned: cells (the statutory tables in long form), checks,
the extraction columns of versions (extract_status, record, text, parser_version …) and the source columns
of reports (which version a report's figures come from, and why).

A mixin of :class:`archive.store.Archive`; the extraction stage (archive/extraction.py) drives it.
"""

from __future__ import annotations

import json

from pipelines.coverage import is_partial

from .writer import now

_JOB_SQL = (
    "SELECT v.id, v.sha256, d.url, d.format, d.title, d.metadata, b.media_type, r.title AS report_title, "
    "a.name AS agency, r.published FROM versions v JOIN documents d ON d.id = v.document_id "
    "JOIN blobs b ON b.sha256 = v.sha256 JOIN reports r ON r.id = d.report_id "
    "JOIN agencies a ON a.id = r.agency_id"
)


class ExtractionResults:
    def pending_versions(self, all_versions: bool = False, parser_version: str | None = None,
                         retry_failed: bool = False) -> list[dict]:
        """Versions to extract: pending ones, those read by another parser version, and (retry_failed) those
        that failed or read only part of their tables (``partial``); with all_versions, every one."""
        sql, params = _JOB_SQL, []
        if not all_versions:
            sql += " WHERE v.extract_status = 'pending'"
            if retry_failed:  # what fell short is read again: the parser may have improved since
                sql += " OR v.extract_status IN ('failed', 'partial')"
            if parser_version:
                sql += " OR v.parser_version IS NOT ?"
                params.append(parser_version)
        return list(self.db.query(sql + " ORDER BY v.id", params))

    def extracted_twins(self, sha256s: set[str], parser_version: str) -> list[dict]:
        """Versions of these payloads already read by this parser version, with their record and text."""
        rows: list[dict] = []
        ordered = sorted(sha256s)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start:start + 500]
            rows += self.db.query(
                _JOB_SQL.replace("SELECT v.id,", "SELECT v.id, v.record, v.text,")
                + f" WHERE v.extract_status IN ('ok', 'partial') AND v.parser_version = ? AND v.sha256 IN ({','.join('?' * len(chunk))})",
                [parser_version, *chunk])
        return rows

    def save_extraction(self, version_id: int, record: dict | None, text: str | None, error: str | None, parser_version: str) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM cells WHERE version_id = ?", [version_id])
            self.db.execute("DELETE FROM checks WHERE version_id = ?", [version_id])
            update = {"parser_version": parser_version, "extracted_at": now(), "text": text}
            if record is None:
                update.update({"extract_status": "failed", "extract_error": error, "record": None, "template": None})
            else:
                status = "partial" if is_partial(record) else "ok"
                update.update({"extract_status": status, "extract_error": None, "template": record.get("template"),
                               "record": json.dumps(record, ensure_ascii=False)})
                self.db["cells"].insert_all(cells_of(version_id, record))
                self.db["checks"].insert_all({"version_id": version_id, **_check_row(c)} for c in record.get("checks", []))
            self.db["versions"].update(version_id, update)

    def partial_reports_by_site(self) -> dict[str, int]:
        """Reports whose figures come from a version that left out rows its template has, per registry site."""
        return dict(self.db.execute(
            "SELECT a.site_id, count(*) FROM reports r JOIN agencies a ON a.id = r.agency_id "
            "JOIN versions v ON v.id = r.source_version_id WHERE v.extract_status = 'partial' "
            "GROUP BY a.site_id").fetchall())

    def choose_sources(self) -> None:
        """For every report, the version its figures come from, and why."""
        from .sources import choose

        with self.db.conn:
            for report in self.db["reports"].rows:
                chosen = choose(self.db, report["id"])
                if chosen:
                    self.db["reports"].update(report["id"], chosen)


def _check_row(check: dict) -> dict:
    return {
        "check_id": check["id"],
        "scope": check["scope"],
        "status": check["status"],
        "expected": check.get("expected"),
        "actual": check.get("actual"),
        "detail": check.get("detail"),
    }


def cells_of(version_id: int, record: dict):
    """The record's statutory tables in long form: one row per cell."""
    for table in ("active_disclosure", "applications", "review_litigation"):
        for row_key, columns in record.get(table, {}).items():
            if row_key == "extra" or not isinstance(columns, dict):
                continue
            for column_key, value in columns.items():
                number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
                yield {
                    "version_id": version_id,
                    "report_table": table,
                    "row_key": row_key,
                    "column_key": column_key,
                    "number": number,
                    "text": None if number is not None or value is None else str(value),
                    # an annotated cell (22（其中修订16件）) keeps its printed text here; the record has 22
                    "raw": record.get("raw_cells", {}).get(f"{table}.{row_key}.{column_key}",
                                                           None if value is None else str(value)),
                }
