"""Which of a report's documents its figures come from, and why.

A report page often only says 详见附件 while its PDF carries the tables, and an
agency may publish the same report as HTML and as PDF. The source is the current
version (the one seen last: archive/versions.py), among the report's documents, that read the
most figures; ties go to the one whose hard checks pass most, then to the attachment (the
agency's own file).
"""

from __future__ import annotations

import json

from pipelines.checks import status_of

from .versions import current_version_sql

# of a document's versions that extraction read, the one seen last: after A, B, A the figures are A's again
_CURRENT_READ = current_version_sql("d.id", where="cv.extract_status IN ('ok', 'partial')")


def _score(row: dict) -> tuple:
    record = json.loads(row["record"])
    checks = record.get("checks", [])
    passed = sum(1 for c in checks if c["status"] == "pass")
    return (row["cells"], passed, row["role"] == "attachment", row["id"])


def choose(db, report_id: int) -> dict | None:
    rows = list(db.query(
        "SELECT v.id, v.record, d.role, d.format, d.url, "
        "(SELECT count(*) FROM cells c WHERE c.version_id = v.id AND c.number IS NOT NULL) AS cells "
        "FROM versions v JOIN documents d ON d.id = v.document_id "
        "WHERE d.report_id = ? AND v.extract_status IN ('ok', 'partial') "
        f"AND v.id = {_CURRENT_READ}",
        [report_id]))
    if not rows:
        return None
    best = max(rows, key=_score)
    record = json.loads(best["record"])
    others = len(rows) - 1
    reason = f"{best['cells']} figures read from the {best['format'] or 'unknown'} {best['role']}"
    if others:
        reason += f"; the most of {len(rows)} documents"
    return {
        "source_version_id": best["id"],
        "source_reason": reason,
        "template": record.get("template"),
        "check_status": status_of(record.get("checks", [])),
        "published": record.get("published"),
    }
