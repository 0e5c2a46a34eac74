"""What a record read of what its template prints: rows read of rows expected, per statutory table.

A row counts as read when every one of its template's cells is in the record (a printed blank is
``null`` and counts; a cell left out with a warning is absent and does not). A record that read
fewer rows than its template has is ``partial``: the archive stores it so, and ``reextract`` reads
it again when the parser improves.
"""

from __future__ import annotations

from .labels import (
    ACTIVE_ROWS,
    APPLICANT_COLUMN_KEYS,
    APPLICATION_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    TABLE_SECTIONS,
    TEMPLATES,
)

_OTHER_DIVIDED = ("other_no_correction", "other_no_fee", "other_misc")


def expected_rows(table: str, template: str, read: dict) -> dict[str, tuple[str, ...]]:
    """{row key: its column keys} that a table of this template prints."""
    if table == "active_disclosure":
        return {row.key: row.columns for row in ACTIVE_ROWS[template]}
    if table == "applications":
        keys = [row.key for row in APPLICATION_ROWS[template] if row.key]
        if template == "2021" and "other" in read and not any(k in read for k in _OTHER_DIVIDED):
            # （六）其他处理 printed undivided in a 2021 table is one row, read as `other`
            at = keys.index(_OTHER_DIVIDED[0])
            keys[at:at + len(_OTHER_DIVIDED)] = ["other"]
        return {key: APPLICANT_COLUMN_KEYS for key in keys}
    return {group: tuple(column for column, _ in REVIEW_COLUMNS) for group, _ in REVIEW_GROUPS}


def _table_coverage(table: str, template: str, read: dict) -> dict:
    expected = expected_rows(table, template, read)
    rows = cells = 0
    for row, columns in expected.items():
        got = read.get(row) if isinstance(read.get(row), dict) else {}
        present = sum(1 for column in columns if column in got)
        cells += present
        rows += present == len(columns)
    return {"rows_read": rows, "rows_expected": len(expected), "cells_read": cells,
            "cells_expected": sum(len(columns) for columns in expected.values())}


def coverage(record: dict) -> dict:
    """{table: {"rows_read", "rows_expected", "cells_read", "cells_expected"}} for the three tables. A record
    whose template was not recognised is measured against the template its rows fit best."""
    template = record.get("template")
    candidates = [template] if template in TEMPLATES else sorted(TEMPLATES, reverse=True)

    def measured(t: str) -> dict:
        return {table: _table_coverage(table, t, record.get(table) or {}) for table in TABLE_SECTIONS}

    return max((measured(t) for t in candidates), key=lambda m: sum(v["cells_read"] for v in m.values()))


def is_partial(record: dict) -> bool:
    """Whether a record left out rows its template has. A document that shows no statutory form at all (no
    template recognised, no figure read: a page that only links its report, a notice) leaves nothing out."""
    measured = record.get("coverage") or {}
    if record.get("template") not in TEMPLATES and not any(v["cells_read"] for v in measured.values()):
        return False
    return any(v["rows_read"] < v["rows_expected"] for v in measured.values())
