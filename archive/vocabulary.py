"""The canonical keys with their Chinese labels, as a table researchers can read and join.

Generated from pipelines/labels.py (the one place labels live), so it never disagrees with the parser.
"""

from __future__ import annotations

from pipelines.labels import (
    ACTIVE_ROWS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
)


def rows():
    for template, specs in ACTIVE_ROWS.items():
        for spec in specs:
            for column, label in zip(spec.columns, spec.column_labels):
                yield ("active_disclosure", spec.key, column, f"{spec.labels[0]}：{label}", template)
    for template, specs in APPLICATION_ROWS.items():
        for spec in specs:
            if spec.key:
                for column, label in APPLICANT_COLUMNS:
                    yield ("applications", spec.key, column, f"{spec.label}：{label}", template)
    for group, group_label in REVIEW_GROUPS:
        for column, label in REVIEW_COLUMNS:
            yield ("review_litigation", group, column, f"{group_label}：{label}", "2019,2021")


def build(db) -> None:
    merged: dict[tuple, dict] = {}
    for table, row, column, label, template in rows():
        entry = merged.setdefault((table, row, column), {"report_table": table, "row_key": row, "column_key": column,
                                                         "label_zh": label, "templates": set()})
        entry["templates"].update(template.split(","))
    with db.conn:
        db["canonical_keys"].drop(ignore=True)
        db["canonical_keys"].insert_all(
            ({**e, "templates": ",".join(sorted(e["templates"]))} for e in merged.values()),
            pk=("report_table", "row_key", "column_key"),
        )
