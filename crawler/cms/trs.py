"""TRS WCM: columns are index.html, index_1.html … and the pager is a script call
``createPageHTML(pageCount, currentIndex, "index", "html")``."""

from __future__ import annotations

import re

from .base import CmsFamily

_PAGER = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"']([^\"']+)[\"']\s*,\s*[\"']([^\"']+)[\"']")


class Trs(CmsFamily):
    name = "trs"

    @classmethod
    def detect(cls, response) -> bool:
        return bool(_PAGER.search(response.text)) or "TRS_Editor" in response.text

    def next_pages(self, response) -> list[str]:
        match = _PAGER.search(response.text)
        if not match:
            return []
        count, current, stem, ext = int(match.group(1)), int(match.group(2)), match.group(3), match.group(4)
        if current != 0:
            return []  # the first page already asked for every page
        return [response.urljoin(f"{stem}_{n}.{ext}") for n in range(1, count)]
