"""Title, agency, year and date of a report, from its own text."""

from __future__ import annotations

import re
from collections import Counter

from ..document import Paragraph
from ..values import squash

_YEAR = re.compile(r"(20\d{2})\s*年")
_DATE = re.compile(r"(20\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_PERIOD = re.compile(r"统计期限自\s*(20\d{2})\s*年")
_REPORT_WORDS = ("报告", "年报")
_TITLE_TAIL = re.compile(r"(年度)?政府信息公开.*$")
_PREFIXES = ("关于",)


def normalise_title(text: str) -> str:
    return squash(text)


def find_title(blocks, before: int) -> str | None:
    """The report's own title: the first paragraph naming a report, joined with the line before
    when the title was broken after the year (seed 004)."""
    previous = None
    for block in blocks[:before]:
        if not isinstance(block, Paragraph):
            continue
        text = squash(block.text)
        if any(word in text for word in _REPORT_WORDS) and "政府信息公开" in (previous or "") + text:
            if not _YEAR.search(text) and previous and _YEAR.search(previous):
                return previous + text
            return text
        previous = text
    return None


def title_year(title: str | None) -> int | None:
    match = _YEAR.search(title or "")
    return int(match.group(1)) if match else None


def title_agency(title: str | None) -> str | None:
    """The agency a title names: the words before the year, or between the year and 政府信息公开."""
    if not title:
        return None
    title = squash(title)
    match = _YEAR.search(title)
    if match and match.start() > 0:
        agency = title[: match.start()]
    elif match:
        agency = _TITLE_TAIL.sub("", title[match.end() :])
    else:
        agency = _TITLE_TAIL.sub("", title)
    for prefix in _PREFIXES:
        agency = agency.removeprefix(prefix)
    agency = agency.rstrip("（(")
    return agency or None


def text_year(text: str) -> int | None:
    """The year a report's text says it covers: the statistics period, else the most named year."""
    match = _PERIOD.search(text)
    if match:
        return int(match.group(1))
    years = Counter(int(y) for y in _YEAR.findall(text[:3000]))
    return years.most_common(1)[0][0] if years else None


def signature_date(blocks) -> str | None:
    """The date signed under the report, from its last paragraphs."""
    tail = [b.text for b in blocks[-6:] if isinstance(b, Paragraph)]
    for text in reversed(tail):
        match = _DATE.search(squash(text))
        if match and len(squash(text)) <= 20:
            year, month, day = (int(g) for g in match.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None
