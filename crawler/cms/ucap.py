"""UCAP (开普云), on many gov.cn portals: the article body sits in ``<div id="UCAP-CONTENT">`` with
``ArticleTitle`` / ``PubDate`` meta in the head (public crawlers select ``#UCAP-CONTENT``).

No public record of a UCAP list page's own pager was found, so its lists are paged as the
generic family pages them (every common next-link form); a shortfall against a declared 共N条
shows up in the coverage check rather than passing silently.
"""

from __future__ import annotations

from .generic import Generic


class Ucap(Generic):
    name = "ucap"
    content_css = "#UCAP-CONTENT, .pages_content"

    @classmethod
    def detect(cls, response) -> bool:
        return "UCAP-CONTENT" in response.text or "ucapcms" in response.text.lower()
