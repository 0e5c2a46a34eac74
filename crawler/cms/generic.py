"""Any CMS with plain links: the next list page is the link that says so.

Real pagers write it many ways: 下一页, 下一页>, 下一页>>, 下页, 后页, 下一頁, »,
›, >, next, Next; or mark it with ``rel="next"``, ``class="next"``, ``title="下一页"`` or an
image whose alt says 下一页. Words win over symbols, because on some pagers » means 尾页 (last);
numbered page links (2, 3 …) beside the list are the last resort. This reading applies to every
family's pages too (a TRS page's DOM may hold a literal ``<a href="index_1.html">下一页</a>``): a
family's own pager adds to it, never replaces it.

``unread_pager`` says when a page shows a pager that none of this could follow (``javascript:goPage(2)``
with no URL behind it): the spider turns that into a coverage warning naming the column.
"""

from __future__ import annotations

import re

from lxml import etree

from .base import CHROME_XPATH, CmsFamily, Next, unfetchable

_WORDS = re.compile(r"^(下一页|下页|后页|下一頁|next(\s*page)?)\s*[>›»＞]*$", re.I)
_SYMBOLS = re.compile(r"^[>›»＞]$")
_NUMBER = re.compile(r"^\[?(\d{1,4})\]?$")
_PAGER_WORDS = re.compile(r"^(下一页|下页|后页|下一頁|尾页|末页|尾頁|末頁|最后一页|next(\s*page)?|last(\s*page)?)\s*[>›»＞]*$", re.I)
_SCRIPT_PAGE = re.compile(r"\(\s*['\"]?([2-9]|\d{2,})['\"]?\s*[,)]")
# compiled once and run on the parsed page: a Selector per link was most of what reading a pager cost
_PAGER_ANCHORS = etree.XPath(f"//a[@href][not({CHROME_XPATH}) or ancestor::*[contains(@class,'page')]]")
_ANCHOR_TEXT = etree.XPath(".//text() | .//img/@alt", smart_strings=False)
_ANCHOR_NAMES = etree.XPath("@rel | @class | @title", smart_strings=False)


class Generic(CmsFamily):
    name = "generic"

    @classmethod
    def detect(cls, response) -> bool:
        return True

    def next_pages(self, response) -> list[Next]:
        words, marked, symbols, numbered = [], [], [], []
        for anchor in _PAGER_ANCHORS(response.selector.root):
            href = anchor.get("href")
            if unfetchable(href):
                continue  # javascript:goPage(2): nothing a crawler can follow
            text = re.sub(r"\s+", "", "".join(_ANCHOR_TEXT(anchor)))
            attrs = " ".join(_ANCHOR_NAMES(anchor)).lower()
            url = response.urljoin(href.strip())
            if url == response.url:
                continue
            if _WORDS.match(text):
                words.append(url)
            elif "next" in attrs.split() or "下一页" in attrs:
                marked.append(url)
            elif _SYMBOLS.match(text):
                symbols.append(url)
            elif _NUMBER.match(text) and int(_NUMBER.match(text).group(1)) > 1 and _sibling(url, response.url):
                numbered.append(url)
        chosen = words or marked or symbols
        if chosen:
            return [Next(chosen[0])]
        return [Next(url) for url in dict.fromkeys(numbered)]  # every numbered page: the dupefilter drops repeats


def unread_pager(response) -> str | None:
    """A pager link a crawler cannot follow on this page (下一页 / 尾页 / a page number to
    ``javascript:goPage(2)``), as written; None when there is none."""
    try:
        anchors = response.xpath("//a")
    except (AttributeError, NotImplementedError, ValueError):
        return None  # not an HTML page (a JSON or XML answer)
    for anchor in anchors:
        text = re.sub(r"\s+", "", "".join(anchor.xpath(".//text() | .//img/@alt").getall()))
        script = " ".join(anchor.xpath("@href | @onclick").getall())
        pager_text = _PAGER_WORDS.match(text) or (_NUMBER.match(text) and int(_NUMBER.match(text).group(1)) > 1)
        if pager_text and "javascript" in script.lower() and _SCRIPT_PAGE.search(script):
            return f"{text}: {script.strip()[:120]}"
    return None


def _sibling(url: str, page: str) -> bool:
    """A numbered link leads to a page of the same list: the same folder, or the folder named after the
    page (VSB's ndbg.htm → ndbg/2.htm)."""
    folder = page.rsplit("/", 1)[0] + "/"
    stem = page.rsplit(".", 1)[0] + "/"
    return url.startswith(folder) or url.startswith(stem)
