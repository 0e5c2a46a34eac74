"""Link spaces without end, as real portals have them: a 政务公开 activity calendar whose every
month links each of its days and the next month, every page labelled like navigation.

Served under ``/rl/`` by the sample portal's server (no file behind it); only pages that
link there lead a crawler in, so the sample portal's own front door never does.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_PATH = re.compile(r"^/rl/(\d{4})-(\d{2})(?:-(\d{2}))?/$")


def calendar_page(path: str) -> bytes | None:
    """The calendar page at PATH, or None when PATH is not one."""
    match = _PATH.match(path)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1900 <= year <= 9999 and 1 <= month <= 12):
        return None
    first = date(year, month, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    days = [first + timedelta(days=n) for n in range((following - first).days)]
    links = [f'<li><a href="/rl/{d:%Y-%m}-{d:%d}/">政务公开日历 {d:%Y-%m-%d}</a></li>' for d in days]
    links.append(f'<li><a href="/rl/{following:%Y-%m}/">政务公开日历 下一月</a></li>')
    body = (f"<html><head><meta charset='utf-8'><title>政务公开日历 {first:%Y-%m}</title></head><body>"
            f"<ul class='calendar'>{''.join(links)}</ul></body></html>")
    return body.encode("utf-8")
