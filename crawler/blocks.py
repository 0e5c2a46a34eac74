"""Answers that are not the page: anti-bot challenges, by status or by a stub body."""

from __future__ import annotations

import re

from scrapy.exceptions import IgnoreRequest

from .downloads import spooled_head

BLOCK_STATUSES = {412: "412 anti-bot challenge", 521: "521 JS cookie challenge", 418: "418 bot refused"}
_COOKIE_SCRIPT = re.compile(rb"document\.cookie|\$_ts|__jsl_clearance|acw_sc__|location\.(href|reload)", re.I)
STUB_MAX_BYTES = 4096


class Blocked(IgnoreRequest):
    """An anti-bot answer turned away by the fetch log: its own type, so that errbacks need not read messages."""


def block_reason(response, request=None) -> str | None:
    """Why a response is a block rather than content, or None."""
    if response.status in BLOCK_STATUSES:
        return BLOCK_STATUSES[response.status]
    content_type = (response.headers.get("Content-Type") or b"").lower()
    if response.status != 200 or b"html" not in content_type:
        return None  # so a report file streamed to disk is never opened here
    body = spooled_head(response, STUB_MAX_BYTES + 1, request)
    if len(body) <= STUB_MAX_BYTES:
        text_free = re.sub(rb"<script.*?</script>|<[^>]+>|\s+", b"", body, flags=re.S)
        if _COOKIE_SCRIPT.search(body) and len(text_free) < 40:
            return "challenge stub: a cookie script and no content"
    return None
