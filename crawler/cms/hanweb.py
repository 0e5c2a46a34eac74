"""Hanweb jcms: /col/colN/index.html carries its first records as CDATA inside a
``<script type="text/xml"><datastore>``; later pages come only from
``/module/web/jpage/dataproxy.jsp?page=N&columnid=N`` as XML with totalpage."""

from __future__ import annotations

import re

from scrapy.http import HtmlResponse

from .base import CmsFamily, ListItem

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL_PAGES = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>")
_COLUMN = re.compile(r"<column>\s*(\d+)\s*</column>|columnid[=:]\s*[\"']?(\d+)")


class Hanweb(CmsFamily):
    name = "hanweb"

    @classmethod
    def detect(cls, response) -> bool:
        return "<datastore>" in response.text or "dataproxy.jsp" in response.text

    def list_items(self, response) -> list[ListItem]:
        items = []
        for fragment in _RECORD.findall(response.text):
            page = HtmlResponse(url=response.url, body=fragment.encode("utf-8"), encoding="utf-8")
            items += super().list_items(page)
        return items

    def next_pages(self, response) -> list[str]:
        if "dataproxy.jsp" in response.url:
            return []
        pages = _TOTAL_PAGES.search(response.text)
        column = _COLUMN.search(response.text)
        if not pages or not column:
            return []
        column_id = column.group(1) or column.group(2)
        return [
            response.urljoin(f"/module/web/jpage/dataproxy.jsp?page={n}&columnid={column_id}")
            for n in range(2, int(pages.group(1)) + 1)
        ]
