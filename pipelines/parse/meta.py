"""Title, agency, year and date of a report, from the document itself, never from page chrome.

Sources, in order of trust: the document's metadata (an article page's 发布机构 and
<meta name="ArticleTitle">, a text dump's 标题/发布时间 lines), its own title lines
(a title broken over two lines included), and the signature under the report (the
agency and a date, in Arabic or Chinese numerals). A breadcrumb (当前位置：首页>…) is
never a title.
"""

from __future__ import annotations

import re

from .. import recognition
from ..document import Paragraph
from ..recognition import parse_date, plausible_agency, text_year, title_agency, title_year  # noqa: F401 (one home)
from ..values import squash

_YEAR = re.compile(r"(20\d{2})\s*年")
_BREADCRUMB = re.compile(recognition.BREADCRUMB)
_FIELD = re.compile(r"^(" + "|".join(k for k, v in recognition.METADATA_FIELDS.items() if v == "title") + r")\s*[:：]\s*")


def normalise_title(text: str) -> str:
    return _FIELD.sub("", squash(text).strip(" |｜")).strip(" |｜")


def is_breadcrumb(text: str) -> bool:
    return bool(_BREADCRUMB.search(text or ""))


def _is_title(text: str, previous: str) -> bool:
    return recognition.could_be_title(text) or (
        recognition.could_be_title(previous + text) and not recognition.names_report(previous))


def looks_like_agency(text: str) -> bool:
    return bool(plausible_agency(text)) and not is_breadcrumb(text)


def find_title(blocks, before: int) -> str | None:
    """The report's own title: the fullest of the paragraphs naming a report above the body, a title broken
    after the year (seed 004), inside a word (…2023年政府信息 / 公开工作年度报告) or after the agency
    (淮安市人民政府 / 2024年政府信息公开工作年度报告) joined again. Metadata rows and sentences are never it."""
    previous, found = "", []
    for block in blocks[:before]:
        if not isinstance(block, Paragraph) or is_breadcrumb(block.text):
            continue
        text = normalise_title(block.text)
        if _is_title(text, previous):
            year = _YEAR.search(text)
            if not year and previous and _YEAR.search(previous):
                found.append(previous + text)
            elif year and year.start() == 0 and looks_like_agency(previous):
                found.append(previous + text)
            else:
                found.append(text)
        previous = text
    return fullest_title(found)


def fullest_title(candidates) -> str | None:
    """The first title given, unless a later one holds it and says more (the agency a list title
    leaves out: 2023年政府信息公开工作年度报告 → 淮安市人民政府2023年政府信息公开工作年度报告)."""
    titles = [normalise_title(t) for t in candidates if t and recognition.could_be_title(normalise_title(t))]
    if not titles:
        return None
    best = titles[0]
    for other in titles[1:]:
        if best in other and len(other) > len(best) and len(other) <= 80:
            best = other
    return best


def _tail(blocks, n: int = 8) -> list[str]:
    return [squash(b.text) for b in blocks[-n:] if isinstance(b, Paragraph) and squash(b.text)]


def signature_date(blocks) -> str | None:
    """The date signed under the report, from its last paragraphs."""
    for text in reversed(_tail(blocks)):
        if len(text) <= 20:
            date = parse_date(text)
            if date:
                return date
    return None


def signature_agency(blocks) -> str | None:
    """The agency signed above the date at the end of the report."""
    lines = _tail(blocks)
    for i in range(len(lines) - 1, 0, -1):
        if len(lines[i]) <= 20 and parse_date(lines[i]):
            return lines[i - 1] if looks_like_agency(lines[i - 1]) else None
    return None


def _subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def fullest_agency(named: str | None, others) -> str | None:
    """The fullest form the document gives of the agency its title names: 泉州市洛江区科学技术局
    over 洛江区科学技术局, 赣州市科学技术局 over 赣州市科技局; never a different agency."""
    others = list(others)
    best = recognition.government_of(named, others)
    for other in others:
        if not other or not looks_like_agency(other):
            continue
        if best is None:
            best = other
        elif len(other) > len(best) and other[-1] == best[-1] and _subsequence(best, other):
            best = other
    return best


def line_before_title(blocks, title: str | None) -> str | None:
    """An agency printed on its own line right above the title (seed 000)."""
    previous = None
    for block in blocks:
        if not isinstance(block, Paragraph):
            continue
        text = normalise_title(block.text)
        if title and text and text in title:
            return previous
        previous = text
    return None
