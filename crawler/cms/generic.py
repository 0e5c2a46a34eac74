"""Any CMS with plain links: the pager is a link whose text says 下一页 / 下页."""

from __future__ import annotations

from .base import CmsFamily

NEXT_WORDS = ("下一页", "下页", "后页", "next")


class Generic(CmsFamily):
    name = "generic"

    @classmethod
    def detect(cls, response) -> bool:
        return True

    def next_pages(self, response) -> list[str]:
        out = []
        for anchor in response.xpath("//a[@href]"):
            text = "".join(anchor.xpath(".//text()").getall()).strip().lower()
            if text in NEXT_WORDS:
                out.append(response.urljoin(anchor.xpath("@href").get()))
        return out
