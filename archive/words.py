"""People's words for the site: the form's own Chinese labels where code has keys.

Cell keys (table.row.column), check ids and statuses become what a reader of the printed form
would say. The labels come from pipelines/labels.py, the one table of them; nothing here spells
out a row or column of the form.
"""

from __future__ import annotations

from pipelines.labels import (
    ACTIVE_ROWS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    CHECK_WORDING,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    TABLE_NUMBERS,
)

STATUS_WORDS = {
    "pass": "通过",
    "fail": "不符",
    "not_assessable": "无法校验",
    "ok": "已解析",
    "partial": "部分读出",
    "failed": "解析失败",
    "skipped": "未解析",
}

_APPLICANTS = dict(APPLICANT_COLUMNS)
_REVIEW_COLUMNS = dict(REVIEW_COLUMNS)
_REVIEW_GROUPS = dict(REVIEW_GROUPS)


def _application_rows(template: str | None) -> dict[str, str]:
    rows = {}
    for name in ([template] if template in APPLICATION_ROWS else []) + list(APPLICATION_ROWS):
        for spec in APPLICATION_ROWS[name]:
            if spec.key:
                rows.setdefault(spec.key, spec.label)
    return rows


def _active(template: str | None) -> tuple[dict, dict]:
    rows, columns = {}, {}
    for name in ([template] if template in ACTIVE_ROWS else []) + list(ACTIVE_ROWS):
        for spec in ACTIVE_ROWS[name]:
            rows.setdefault(spec.key, spec.labels[0])
            for key, text in zip(spec.columns, spec.column_labels):
                columns.setdefault(key, text)
    return rows, columns


def row_label(table: str, row: str, template: str | None = None) -> str:
    if table == "applications":
        return _application_rows(template).get(row, row)
    if table == "review_litigation":
        return _REVIEW_GROUPS.get(row, row)
    if table == "active_disclosure":
        return _active(template)[0].get(row, row)
    return row


def column_label(table: str, column: str, template: str | None = None) -> str:
    if table == "applications":
        return _APPLICANTS.get(column, column)
    if table == "review_litigation":
        return _REVIEW_COLUMNS.get(column, column)
    if table == "active_disclosure":
        return _active(template)[1].get(column, column)
    return column


def cell_label(table: str, row: str, column: str, template: str | None = None) -> str:
    """'表三 （一）予以公开 · 自然人' for applications.granted.natural_person."""
    return f"{TABLE_NUMBERS.get(table, table)} {row_label(table, row, template)} · {column_label(table, column, template)}"


def key_label(key: str, template: str | None = None) -> str:
    table, row, column = (key.split(".") + ["", ""])[:3]
    return cell_label(table, row, column, template)


def check_scope(check_id: str, scope: str, template: str | None = None) -> str:
    if check_id == "applications.row_total":
        return row_label("applications", scope, template)
    if check_id.startswith("review_litigation"):
        return _REVIEW_GROUPS.get(scope, scope)
    return _APPLICANTS.get(scope, scope)


def check_name(check: dict, template: str | None = None) -> str:
    """本年新收+上年结转=办理结果总计+结转下年度（自然人）"""
    return f"{CHECK_WORDING.get(check['check_id'], check['check_id'])}（{check_scope(check['check_id'], check['scope'], template)}）"


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_sentence(check: dict, template: str | None = None) -> str:
    """本年新收+上年结转=办理结果总计+结转下年度（自然人）：应为45，实为46"""
    name = check_name(check, template)
    if check["status"] == "not_assessable" or check.get("expected") is None:
        return f"{name}：无法校验（有格为空或不是数字）"
    if check["status"] == "pass":
        return f"{name}：相符（{_number(check['expected'])}）"
    return f"{name}：应为{_number(check['expected'])}，实为{_number(check['actual'])}"


def status_word(status: str | None) -> str:
    return STATUS_WORDS.get(status or "", status or "—")
