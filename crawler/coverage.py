"""Did the crawl read every item a column says it has?

Real list pages state their size: Hanweb's ``totalRecord``, TRS's ``createPageHTML`` page count
and record count, 共N条 / 共N页 in a pager, gkmlpt's ``post_count``, Fujian's ``recordCount``.
When fewer items (or pages) were read than the column declares, the crawl missed part of the
column — a pager it did not understand, a bound it hit, pages that failed — and says so: one
``coverage_short`` row in the fetch log and a warning in the per-site summary naming the column,
``found N of M``. A silent short crawl is the worst failure a crawler has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .cms import Declared
from .hosts import registrable_domain


@dataclass
class Column:
    site_id: str
    url: str
    declared: Declared | None = None
    pages_read: int = 0
    items: set = field(default_factory=set)
    bounded: str | None = None
    unread_pager: str | None = None  # a pager the crawl could not follow, as the page wrote it
    failed: str | None = None  # why a list page of the column could not be read (a hostile script)

    @property
    def items_read(self) -> int:
        return len(self.items)

    def read_page(self, declared: Declared | None) -> None:
        self.pages_read += 1
        if self.declared is None and declared is not None:
            self.declared = declared  # the column's first statement of its size is the one checked

    def new_item(self, url: str) -> bool:
        if url in self.items:
            return False
        self.items.add(url)
        return True

    def pager_not_followed(self, pager: str | None) -> None:
        """The column's first page shows a pager and nothing was asked for after it."""
        if pager and not self.unread_pager:
            self.unread_pager = pager

    def left_the_column(self, response) -> str | None:
        """A list page that redirected (HTTP or meta refresh) out of the column's folder: TRS and
        others answer a page past the last with a refresh to the home page. The column ends there."""
        if not response.meta.get("redirect_urls"):
            return None
        folder = urlsplit(self.url).path.rsplit("/", 1)[0] + "/"
        landed = urlsplit(response.url)
        same_site = registrable_domain(landed.hostname or "") == registrable_domain(urlsplit(self.url).hostname or "")
        if landed.path.startswith(folder) and same_site:  # bare domain → www. is the same column
            return None
        how = ", ".join(str(r) for r in response.meta.get("redirect_reasons", [])) or "redirect"
        return f"list page redirected out of the column ({how}) to {response.url}: the column ends here"

    def shortfall(self) -> str | None:
        declared = self.declared
        complete = declared is not None and declared.records is not None and self.items_read >= declared.records
        if self.unread_pager and not complete and (declared is None or self.pages_read < (declared.pages or 2)):
            said = f"; it declares {declared.records or declared.pages} ({declared.source})" if declared else ""
            return (f"found {self.items_read} items on {self.pages_read} list page(s): the column's pager is not one"
                    f" nianbao understands ({self.unread_pager}){said}")
        if declared is None:
            return None
        if declared.records is not None and self.items_read < declared.records:
            return f"found {self.items_read} of {declared.records} items the column declares ({declared.source})"
        if declared.records is None and declared.pages is not None and self.pages_read < declared.pages:
            return f"found {self.pages_read} of {declared.pages} list pages the column declares ({declared.source})"
        return None


def check_coverage(columns, sites: dict, stats, log) -> list[str]:
    """Per column: stats for the summary (listed; declared and listed_declaring, the items of the columns that
    declare how many they have; columns, columns_failed) and a warning for each shortfall and each failed column.
    A column failed when a list page could not be read or none was read."""
    warnings = []
    for column in columns:
        site = sites.get(column.site_id, {"id": column.site_id})
        prefix = f"nianbao/site/{column.site_id}"
        stats.inc_value(f"{prefix}/columns")
        if column.failed or not column.pages_read:
            stats.inc_value(f"{prefix}/columns_failed")
            stats.inc_value("nianbao/columns_failed")
            warnings.append(f"{column.site_id}: {column.url}: column failed: {column.failed or 'no list page was read'}")
        stats.inc_value(f"{prefix}/listed", column.items_read)
        if column.declared and column.declared.records is not None:
            stats.inc_value(f"{prefix}/declared", column.declared.records)
            stats.inc_value(f"{prefix}/listed_declaring", column.items_read)  # like with like, per site
        elif column.declared and column.declared.pages is not None:  # a pager that states pages only
            stats.inc_value(f"{prefix}/declared_pages", column.declared.pages)
            stats.inc_value(f"{prefix}/pages_read", column.pages_read)
        short = column.shortfall()
        if short:
            stats.inc_value(f"{prefix}/coverage_short")
            stats.inc_value("nianbao/coverage_short")
            warnings.append(f"{column.site_id}: {column.url}: {short}")
            log(site, column.url, short)
        if column.bounded:
            warnings.append(f"{column.site_id}: {column.url}: {column.bounded}")
    return warnings
