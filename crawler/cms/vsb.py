"""VSB (博达站群): the newest list page is ``ndbg.htm``, older ones ``ndbg/N.htm`` counting down to
``ndbg/1.htm``; the pager is ``<span class="p_next p_fun"><a href="ndbg/16.htm">下页</a></span>``
beside ``<span class="p_t">共180条</span>``; articles are ``/info/COL/ID.htm``; attachments go
through ``/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=…&wbfileid=…``, which
refuses a request without the article page as Referer (the spider always sends it)."""

from __future__ import annotations

from .base import CmsFamily, Next

_MARKS = ("pb_sys_common", "p_next", "/system/resource/", "_sitegray", "DownloadAttachUrl", "winstyle")


class Vsb(CmsFamily):
    name = "vsb"

    @classmethod
    def detect(cls, response) -> bool:
        text = response.text
        return sum(mark in text for mark in _MARKS) >= 2 or ("/info/" in text and "p_next" in text)

    def next_pages(self, response) -> list[Next]:
        hrefs = response.xpath("//span[contains(@class,'p_next')]/a/@href | //a[contains(@class,'Next')]/@href").getall()
        return [Next(response.urljoin(h)) for h in hrefs[:1]]
