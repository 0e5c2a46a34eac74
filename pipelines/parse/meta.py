"""Title, agency, year and date of a report, from the document itself, never from page chrome.

Sources, in order of trust: the document's metadata (an article page's 发布机构 and
<meta name="ArticleTitle">, a text dump's 标题/发布时间 lines), its own title lines
(a title broken over two lines included), and the signature under the report (the
agency and a date, in Arabic or Chinese numerals). A breadcrumb (当前位置：首页>…) is
never a title.
"""

from __future__ import annotations

import re
from collections import Counter

from ..document import Paragraph
from ..values import squash

_YEAR = re.compile(r"(20\d{2})\s*年")
_DATE = re.compile(r"(20\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"(20\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_CN_DATE = re.compile(r"([二〇○零一三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
_PERIOD = re.compile(r"统计期限自\s*(20\d{2})\s*年")
_REPORT_WORDS = ("报告", "年报")
_TITLE_TAIL = re.compile(r"(年度)?政府信息公开.*$")
_PREFIXES = ("关于",)
_BREADCRUMB = re.compile(r"当前位置|您现在的位置|您的位置|所在位置|首页\s*[>»＞/]|[>»＞]\s*(政务公开|信息公开|政府信息公开)")
_FIELD = re.compile(r"^(标题|题名|文章标题|名称)\s*[:：]\s*")
# Words an agency's name ends with (the signature line above the date).
_AGENCY_END = re.compile(r"(政府|局|委员会|委|办公室|办|厅|院|署|中心|所|站|队|会|管委会|街道办事处|街道|镇|乡|区|县|市|集团|公司)$")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def normalise_title(text: str) -> str:
    return _FIELD.sub("", squash(text))


def is_breadcrumb(text: str) -> bool:
    return bool(_BREADCRUMB.search(text or ""))


def _is_title(text: str, previous: str) -> bool:
    return any(word in text for word in _REPORT_WORDS) and "政府信息公开" in previous + text and len(text) <= 80


def looks_like_agency(text: str) -> bool:
    text = squash(text)
    return 2 < len(text) <= 30 and not _YEAR.search(text) and bool(_AGENCY_END.search(text)) and not is_breadcrumb(text)


def find_title(blocks, before: int) -> str | None:
    """The report's own title: the first paragraph naming a report, joined with the line before
    when the title was broken after the year (seed 004) or after the agency (淮安市人民政府 /
    2024年政府信息公开工作年度报告)."""
    previous = ""
    for block in blocks[:before]:
        if not isinstance(block, Paragraph) or is_breadcrumb(block.text):
            continue
        text = normalise_title(block.text)
        if _is_title(text, previous):
            if not _YEAR.search(text) and previous and _YEAR.search(previous):
                return previous + text
            year = _YEAR.search(text)
            if year and year.start() == 0 and looks_like_agency(previous):
                return previous + text
            return text
        previous = text
    return None


def fullest_title(candidates) -> str | None:
    """The first title given, unless a later one holds it and says more (the agency a list title
    leaves out: 2023年政府信息公开工作年度报告 → 淮安市人民政府2023年政府信息公开工作年度报告)."""
    titles = [normalise_title(t) for t in candidates if t and normalise_title(t)]
    if not titles:
        return None
    best = titles[0]
    for other in titles[1:]:
        if best in other and len(other) > len(best) and len(other) <= 80:
            best = other
    return best


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


def _cn_number(text: str) -> int:
    """一 … 三十一 (and digit by digit for years: 二〇二四)."""
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS[ch]
    return value


def parse_date(text: str) -> str | None:
    """A date printed as 2021年1月5日, 2021-01-05 or 二〇二四年一月二十日, as ISO."""
    text = squash(text)
    match = _DATE.search(text) or _ISO_DATE.search(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _CN_DATE.search(text)
        if not match:
            return None
        try:
            year, month, day = (_cn_number(g) for g in match.groups())
        except KeyError:
            return None
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


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
    best = named
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
