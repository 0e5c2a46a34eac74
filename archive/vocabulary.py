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


# Chinese first, English beside: the header of every column the site shows (tables, CSV of canned queries, XLSX).
LABELS = {
    "report_id": "报告编号", "agency": "发布机关", "agency_id": "机关编号", "name": "名称", "province": "省份",
    "city": "市", "county": "县区", "region": "地区", "year": "报告年度", "template": "表格模板", "title": "标题",
    "published": "发布日期", "check_status": "勾稽校验", "applications_received": "本年新收申请",
    "carried_over": "上年结转", "granted": "予以公开", "total_processed": "办理结果总计",
    "carried_forward": "结转下年度", "review_total": "行政复议总计", "litigation_direct_total": "未经复议直接起诉",
    "litigation_after_review_total": "复议后起诉", "source_url": "原文网址", "archive_url": "存档副本",
    "first_seen": "首次收录", "last_seen": "最近确认", "source_version_id": "数据来源版本",
    "source_reason": "数据来源说明", "url": "网址", "role": "类型", "format": "格式", "document_id": "文件编号",
    "sha256": "内容哈希", "size": "字节", "media_type": "媒体类型", "extract_status": "解析状态",
    "extract_error": "解析错误", "record": "解析记录", "text": "全文", "version_id": "版本编号",
    "report_table": "表", "row_key": "行", "column_key": "列", "number": "数值", "raw": "原文",
    "check_id": "检查", "scope": "范围", "status": "结果", "expected": "应为", "actual": "实为", "detail": "说明",
    "started": "开始", "finished": "结束", "command": "命令", "sites": "站点", "stats": "统计", "summary": "摘要",
    "cells_changed": "改动格数", "text_diff": "文字改动", "old": "原值", "new": "新值", "kind": "类别",
    "cms": "建站系统", "start_urls": "起始网址", "outcome": "结果", "reason": "原因", "fetched_at": "抓取时间",
    "bytes": "字节", "label_zh": "中文名称", "templates": "模板", "id": "编号", "report_page": "年报页面",
    "continuity": "结转连续性", "last_year_carried_forward": "上年度结转下年度", "proceeding": "程序",
    "cases": "件数", "parser_version": "解析器版本", "extracted_at": "解析时间", "etag": "ETag",
    "last_modified": "Last-Modified", "previous_version_id": "上一版本",
}


def label(column: str) -> str:
    """'本年新收申请 applications_received' for a known column, the column itself otherwise."""
    zh = LABELS.get(column)
    return f"{zh} {column}" if zh and zh != column else column
