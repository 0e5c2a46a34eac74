"""Is a list item an annual report, and of which agency and year?

A report's title names a 政府信息公开（工作）年度报告 or 年报 of a year. The year comes
from the title: URL dates are publication dates, usually the next year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.parse.meta import title_agency, title_year

_REPORT = re.compile(r"政府信息公开(工作)?(年度)?(报告|年报)|政务公开.*年度报告|信息公开年报")
_YEAR = re.compile(r"(20\d{2})\s*年")
# Items filed in the same columns that are not reports.
_NOT_REPORT = ("通知", "汇总", "预算", "决算", "指南", "解读", "目录", "意见", "方案", "要点", "统计表")


@dataclass(frozen=True)
class Recognised:
    year: int
    agency: str | None


def skip_reason(title: str) -> str | None:
    """None when the title is a report's; else why the item is skipped."""
    compact = re.sub(r"\s+", "", title or "")
    if not _REPORT.search(compact):
        return "not a report title"
    for word in _NOT_REPORT:
        if word in compact:
            return f"not a report ({word})"
    if not _YEAR.search(compact):
        return "report title names no year"
    return None


def recognise(title: str) -> Recognised | None:
    if skip_reason(title):
        return None
    return Recognised(title_year(title), title_agency(title))
