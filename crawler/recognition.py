"""Is a list item an annual report, of which year, and which agency's: the crawler's use of
``pipelines.recognition``, where the rules live once (extraction uses the same).

The agency never rests on one line of text (see ``resolve_agency``): titles often leave it out,
and then the article's metadata (发布机构, ``<meta name="ArticleTitle">``) or the registry entry
names it. A government named in the title (内蒙古自治区2018年…, a city's report reposted on a county's
portal) is the report's agency, whatever the registry entry is called.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipelines.recognition import (
    government_of,
    plausible_agency,
    skip_reason,
    title_agency,
    title_verdict,
    title_year,
    truncated,
)

__all__ = ["Recognised", "recognise", "skip_reason", "title_year", "title_agency", "plausible_agency", "truncated",
           "title_verdict", "index_owner", "resolve_agency"]


@dataclass(frozen=True)
class Recognised:
    year: int
    agency: str | None


@lru_cache(maxsize=4096)  # a title is recognised on its list page, on its article page and for its identity
def recognise(title: str) -> Recognised | None:
    if skip_reason(title):
        return None
    return Recognised(title_year(title), title_agency(title))


def index_owner(metadata: dict | None) -> str | None:
    """The agency code a 索引号 starts with (``11350503003534456T/2023-00012`` → ``11350503003534456T``)."""
    value = re.sub(r"\s+", "", (metadata or {}).get("索引号") or "")
    owner = value.split("/", 1)[0] if "/" in value else ""
    return owner if len(owner) >= 6 else None


def resolve_agency(title: str | None, metadata: dict | None, site: dict | None,
                   record_agency: str | None = None, indexed_agency: str | None = None) -> str:
    """The report's agency, never None: the title's, else the agency already archived under the
    article's 索引号 owner, else the extraction record's (the report's own text), else the article's
    metadata (发布机构 / 发文机关, the ArticleTitle's, ContentSource), else the registry entry's name,
    else the entry's id."""
    metadata, site = metadata or {}, site or {}
    candidates = [
        title_agency(title),
        plausible_agency(indexed_agency),
        plausible_agency(record_agency),
        plausible_agency(metadata.get("发布机构")),
        plausible_agency(metadata.get("发文机关")),
        title_agency(metadata.get("ArticleTitle")),
        title_agency(metadata.get("标题")),
        plausible_agency(metadata.get("ContentSource")),
    ]
    for candidate in candidates:
        if candidate:
            # a place named in the title is its government, as the page or the registry spells it
            return government_of(candidate, [*candidates, site.get("name")])
    return str(site.get("name") or site.get("id") or "unknown agency")
