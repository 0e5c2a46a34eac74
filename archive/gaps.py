"""What a record lacks, said in Chinese beside the table that lacks it.

A table is "not read" when the record holds no figure of it, "partial" when it holds fewer rows
than the template prints. Rows read come from the record's ``coverage`` (the contract: versions
whose extraction left rows out are stored as ``partial`` with
``coverage = {TABLE: {"rows_read": n, "rows_expected": m}}``); records made before it are counted
from the template. The reason is the extractor's own warning, put in words.
"""

from __future__ import annotations

import re

from pipelines.labels import ACTIVE_ROWS, APPLICATION_ROWS, REVIEW_GROUPS, TABLE_NUMBERS, TABLE_SECTIONS

# extractor warning (English, for developers) → what a reader is told
_REASONS = (
    (re.compile(r"table \S+ not found"), "文中未找到此表"),
    (re.compile(r"no figures found"), "表中未找到数字"),
    (re.compile(r"headers not found"), "未能识别表头"),
    (re.compile(r"glued figures '([^']*)' split more than one way"),
     "数字粘连在一起（{0}），拆分方式不止一种，不能确定各格的值"),
    (re.compile(r"(\d+) cells for (\d+) columns"), "读出的格数（{0}）与表格列数（{1}）不符"),
    (re.compile(r"not under their headers"), "数字无法对应到表头下的栏目"),
    (re.compile(r"row not found"), "原文中未找到这一行"),
    (re.compile(r"no figures after the label"), "行名后没有数字"),
    (re.compile(r"belong to no column"), "部分数字无法对应到栏目"),
    (re.compile(r"OCR row"), "扫描件识别的这一行数字加总不符，未采用"),
    (re.compile(r"columns .* not found"), "部分栏目未找到"),
)


def rows_expected(table: str, template: str | None) -> int:
    if table == "applications":
        return sum(1 for spec in APPLICATION_ROWS.get(template or "", ()) if spec.key)
    if table == "active_disclosure":
        return len(ACTIVE_ROWS.get(template or "", ()))
    return len(REVIEW_GROUPS)


def _has_figure(values) -> bool:
    return isinstance(values, dict) and any(v is not None for v in values.values())


def coverage(record: dict, table: str) -> dict:
    """{"rows_read": n, "rows_expected": m} from the record's own coverage, else counted."""
    given = (record.get("coverage") or {}).get(table)
    if isinstance(given, dict) and "rows_read" in given and "rows_expected" in given:
        return {"rows_read": given["rows_read"], "rows_expected": given["rows_expected"]}
    data = record.get(table) or {}
    read = sum(1 for key, values in data.items() if key != "extra" and _has_figure(values))
    return {"rows_read": read, "rows_expected": rows_expected(table, record.get("template"))}


def reason(warning: str) -> str:
    for pattern, words in _REASONS:
        found = pattern.search(warning)
        if found:
            return words.format(*found.groups())
    return "解析时未能读出"


def _row_of(warning: str, table: str) -> str | None:
    found = re.match(rf"{table}\.(\w+):", warning)
    return found.group(1) if found else None


def table_gap(record: dict | None, table: str, row_label=None) -> dict | None:
    """None when the table was read whole; else what is missing and why, in Chinese.

    `row_label(table, row, template)` names a left-out row as the form prints it."""
    if record is None:
        return {"table": table, "kind": "missing", "number": TABLE_NUMBERS[table],
                "summary": f"{TABLE_NUMBERS[table]}未读出：本年报的文件未能解析。", "reasons": [], "warnings": []}
    counted = coverage(record, table)
    read, expected = counted["rows_read"], counted["rows_expected"]
    if expected == 0 or read >= expected:
        return None
    warnings = [w for w in record.get("warnings") or [] if w.startswith(table) or f"table {table}" in w]
    reasons = []
    for warning in warnings:
        row = _row_of(warning, table)
        name = row_label(table, row, record.get("template")) if row and row_label else None
        reasons.append(f"{name}：{reason(warning)}" if name else reason(warning))
    number = TABLE_NUMBERS[table]
    if read == 0:
        summary = f"{number}未读出。"
    else:
        summary = f"{number}只读出 {read} / {expected} 行，其余 {expected - read} 行未读出（表中留空，不是 0）。"
    return {"table": table, "kind": "missing" if read == 0 else "partial", "number": number, "summary": summary,
            "reasons": list(dict.fromkeys(reasons)) or ["解析时未能读出，原因未记录"], "warnings": warnings,
            "rows_read": read, "rows_expected": expected}


def gaps(record: dict | None) -> dict[str, dict]:
    from .words import row_label

    found = {table: table_gap(record, table, row_label) for table in TABLE_SECTIONS}
    return {table: gap for table, gap in found.items() if gap}
