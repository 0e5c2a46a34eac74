"""Any CMS with plain links: the next list page is the link that says so.

Real pagers write it many ways: 下一页, 下一页>, 下一页>>, 下页, 后页, 下一頁, »,
›, >, next, Next; or mark it with ``rel="next"``, ``class="next"``, ``title="下一页"`` or an
image whose alt says 下一页. Words win over symbols, because on some pagers » means 尾页 (last).
"""

from __future__ import annotations

import re

from .base import CHROME_XPATH, CmsFamily, Next, unfetchable

_WORDS = re.compile(r"^(下一页|下页|后页|下一頁|next(\s*page)?)\s*[>›»＞]*$", re.I)
_SYMBOLS = re.compile(r"^[>›»＞]$")


class Generic(CmsFamily):
    name = "generic"

    @classmethod
    def detect(cls, response) -> bool:
        return True

    def next_pages(self, response) -> list[Next]:
        words, marked, symbols = [], [], []
        for anchor in response.xpath(f"//a[@href][not({CHROME_XPATH}) or ancestor::*[contains(@class,'page')]]"):
            href = anchor.xpath("@href").get()
            if unfetchable(href):
                continue  # javascript:goPage(2): nothing a crawler can follow
            text = re.sub(r"\s+", "", "".join(anchor.xpath(".//text() | .//img/@alt").getall()))
            attrs = " ".join(anchor.xpath("@rel | @class | @title").getall()).lower()
            url = response.urljoin(href.strip())
            if url == response.url:
                continue
            if _WORDS.match(text):
                words.append(url)
            elif "next" in attrs.split() or "下一页" in attrs:
                marked.append(url)
            elif _SYMBOLS.match(text):
                symbols.append(url)
        chosen = words or marked or symbols
        return [Next(chosen[0])] if chosen else []
