"""VSB (博达): the newest list page is ndbg.htm, older ones ndbg/N.htm counting down;
articles are /info/COL/ID.htm; attachments go through download.jsp, which
refuses a request without the article page as Referer."""

from __future__ import annotations

from .base import CmsFamily


class Vsb(CmsFamily):
    name = "vsb"

    @classmethod
    def detect(cls, response) -> bool:
        return "/info/" in response.text and ("p_next" in response.text or "winstyle" in response.text)

    def next_pages(self, response) -> list[str]:
        return [response.urljoin(h) for h in response.xpath("//span[contains(@class,'p_next')]/a/@href").getall()]
