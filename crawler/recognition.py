"""Is a list item an annual report, of which year, and which agency's?

A report's title names a 政府信息公开（工作）年度报告 or 年报 of a year: ``2023年…``, ``2023年度…``,
``…年报（2023）``, and list pages cut long titles short (``…年度报…``). The year comes from the
title: URL dates are publication dates, usually the next year.

The agency never rests on one line of text (see ``resolve_agency``): titles often leave it out,
and then the article's metadata (发布机构, ``<meta name="ArticleTitle">``) or the registry entry
names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REPORT = re.compile(r"政府信息公开(工作)?(年度)?(报告|年报)|政务公开.*年度报告|信息公开年报|"
                     r"政府信息公开(工作)?年度?报?(…|\.\.\.|．．．)$")
_YEAR = re.compile(r"(20\d{2})\s*年度?|[（(](20\d{2})[）)]")
# Items filed in the same columns that are not reports.
_NOT_REPORT = ("通知", "汇总", "预算", "决算", "指南", "解读", "目录", "意见", "方案", "要点", "统计表")
_AGENCY_END = ("政府", "局", "委员会", "委", "办公室", "办", "厅", "院", "中心", "部", "处", "所", "站", "队", "会",
               "署", "馆", "社", "司", "街道", "镇", "乡", "管委会", "集团", "公司", "行", "室", "庭", "台", "园区")
_TITLE_TAIL = re.compile(r"(年度)?(关于)?政府信息公开.*$|(年度)?信息公开.*$|(年度)?政务公开.*$")


@dataclass(frozen=True)
class Recognised:
    year: int
    agency: str | None


def _compact(title: str | None) -> str:
    return re.sub(r"[\s\u3000]+", "", title or "")


_TRUNCATED = re.compile(r"(…|\.\.\.|．．．|\.\.)$")
_REPORT_START = ("政府信", "信息公", "政务公", "年报", "年度报", "年度")


def truncated(title: str | None) -> bool:
    return bool(_TRUNCATED.search(_compact(title)))


def skip_reason(title: str) -> str | None:
    """None when the title is a report's (or, cut short by the list page, may be one: the article's
    own title then decides); else why the item is skipped."""
    compact = _compact(title)
    # a list title cut short: kept when what is left could begin a report's title; the article's decides
    cut_report = truncated(compact) and (any(word in compact for word in _REPORT_START) or bool(_YEAR.search(compact)))
    if not _REPORT.search(compact) and not cut_report:
        return "not a report title"
    for word in _NOT_REPORT:
        if word in compact:
            return f"not a report ({word})"
    if not _YEAR.search(compact) and not cut_report:
        return "report title names no year"
    return None


def title_year(title: str | None) -> int | None:
    match = _YEAR.search(_compact(title))
    return int(match.group(1) or match.group(2)) if match else None


def plausible_agency(name: str | None) -> str | None:
    """``name`` when it can be an agency's name (``度``, ``关于`` or a bare place cannot)."""
    name = (name or "").strip(" ：:，,、（(《》)）")
    name = re.sub(r"^(关于|公布|发布)", "", name)
    if len(name) < 3 or not name.endswith(_AGENCY_END):
        return None
    return name


def title_agency(title: str | None) -> str | None:
    """The agency a title names before its year, or between the year and 政府信息公开; None when
    the title names none."""
    compact = _compact(title)
    match = _YEAR.search(compact)
    if match and match.start() > 0:
        return plausible_agency(_TITLE_TAIL.sub("", compact[: match.start()]))
    rest = compact[match.end():] if match else compact
    return plausible_agency(_TITLE_TAIL.sub("", rest))


def recognise(title: str) -> Recognised | None:
    if skip_reason(title):
        return None
    return Recognised(title_year(title), title_agency(title))


def index_owner(metadata: dict | None) -> str | None:
    """The agency code a 索引号 starts with (``11350503003534456T/2023-00012`` → ``11350503003534456T``)."""
    value = re.sub(r"\s+", "", (metadata or {}).get("索引号") or "")
    owner = value.split("/", 1)[0] if "/" in value else ""
    return owner if len(owner) >= 6 else None


def resolve_agency(title: str | None, metadata: dict | None, site: dict | None,
                   record_agency: str | None = None, indexed_agency: str | None = None) -> str:
    """The report's agency, never None: the title's, else the agency already archived under the
    article's 索引号 owner, else the extraction record's (the report's own text), else the article's
    metadata (发布机构 / 发文机关, the ArticleTitle's, ContentSource), else the registry entry's name,
    else the entry's id."""
    metadata = metadata or {}
    for candidate in (
        title_agency(title),
        plausible_agency(indexed_agency),
        plausible_agency(record_agency),
        plausible_agency(metadata.get("发布机构")),
        plausible_agency(metadata.get("发文机关")),
        title_agency(metadata.get("ArticleTitle")),
        title_agency(metadata.get("标题")),
        plausible_agency(metadata.get("ContentSource")),
    ):
        if candidate:
            return candidate
    site = site or {}
    return str(site.get("name") or site.get("id") or "unknown agency")
