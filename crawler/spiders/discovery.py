"""The Scrapy side of discovery (crawler/discovery.py decides; this module requests and records).

``DiscoveryMixin`` gives a spider, for every registry entry with a ``portal:``:
- a walk of the portal's navigation from its root (and its 政府信息公开 entry, where the
  national registry knows one), capped by NIANBAO_DISCOVERY_MAX_PAGES / _MAX_DEPTH;
- each 年报 column it finds, recorded in the archive's ``columns`` table and handed to
  ``crawl_column`` (the column spider reads it as it reads a hand-written start URL);
- or, when the site was walked less than NIANBAO_REDISCOVER_DAYS ago, its known columns
  straight away, so the nightly run stays cheap (NIANBAO_REDISCOVER forces a walk).
At the end of the crawl each walk is written to ``discoveries``; columns a complete walk
did not find again are flagged vanished, and the per-site line is put in the stats.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse

from ..blocks import Blocked
from ..cms import page_items
from ..discovery import Walk, agency_name, first_page, followable, judge_column, portal_hosts, same_column, score_link


class DiscoveryMixin:
    records_columns = True  # `nianbao discover` only prints what it finds

    # ------------------------------------------------------------------ start

    def discovery_start(self, site, registry_urls: set[str]):
        """Requests that begin a portal site: its known columns, or a walk of its navigation."""
        self._registry_urls = registry_urls
        self._walks = getattr(self, "_walks", {})
        self._column_reports = getattr(self, "_column_reports", {})
        settings = self.crawler.settings
        archive = self._discovery_archive()
        if archive is not None and not settings.getbool("NIANBAO_REDISCOVER"):
            from archive import columns as stored

            every = settings.getfloat("NIANBAO_REDISCOVER_DAYS", 30)
            if not stored.due(archive.reader, site.id, every):
                known = stored.known(archive.reader, site.id)
                self.crawler.stats.set_value(f"nianbao/site/{site.id}/discovery",
                                             f"known columns: {len(known)} (rediscovery every {every:g} days)")
                for column in known:
                    if column["url"] not in registry_urls:
                        yield self._column_request(site, column)
                return
        yield from self._walk_start(site)

    def _walk_start(self, site):
        walk = self._walk_for(site)
        for url in [u for u in (site.portal, site.gk_url) if u]:
            if walk.admit(url, 0):
                yield self._walk_request(site, url, [], None, 0)

    def _walk_for(self, site) -> Walk:
        """The site's walk; made afresh when a resumed run (JOBDIR) answers a request of a killed one."""
        from archive.store import now

        self._walks = getattr(self, "_walks", {})
        if site.id not in self._walks:
            entries = [u for u in (site.portal, site.gk_url) if u]
            self._walks[site.id] = Walk(
                site.id, site.name, portal_hosts(entries, site.allowed_hosts),
                self.crawler.settings.getint("NIANBAO_DISCOVERY_MAX_PAGES", 300),
                self.crawler.settings.getint("NIANBAO_DISCOVERY_MAX_DEPTH", 6), started=now())
        return self._walks[site.id]

    def _discovery_archive(self):
        """The crawl's archive extension, when what discovery finds is recorded: it reads through
        ``reader`` and writes through ``write`` (the writer process)."""
        if not self.records_columns:
            return None
        from ..extension import ArchiveExtension

        return ArchiveExtension.of(self.crawler)

    # ------------------------------------------------------------------ requests

    def _walk_request(self, site, url: str, path: list, agency: str | None, depth: int):
        self._count_discovery(site.id, "discovery_pages")
        return scrapy.Request(
            url, callback=self.parse_discovery, errback=self.discovery_failed, priority=-depth,
            meta={"site": site.as_dict(), "download_maxsize": self.crawler.settings.getint("NIANBAO_PAGE_MAXSIZE"),
                  "walk": {"path": path, "agency": agency, "depth": depth, "site_id": site.id}},
        )

    def _column_site(self, site, column: dict) -> dict:
        return {**site.as_dict(), "name": column.get("agency") or site.name, "column": column["url"]}

    def _column_request(self, site, column: dict):
        meta = {"site": self._column_site(site, column), "column": column["url"],
                "download_maxsize": self.crawler.settings.getint("NIANBAO_PAGE_MAXSIZE"),
                **self._list_meta(column["url"])}
        return scrapy.Request(column["url"], callback=self.parse_list, errback=self.known_column_failed, meta=meta)

    def _list_meta(self, column_url: str) -> dict:
        """How a column's list pages are asked (the column spider asks them conditionally)."""
        return {}

    def known_column_failed(self, failure):
        """A known column that answers 404/410 has probably moved: the next run walks the portal again
        (which flags it vanished if it is gone), instead of waiting for the schedule."""
        response = getattr(failure.value, "response", None)
        archive = self._discovery_archive()
        if response is None or response.status not in (404, 410) or archive is None:
            return
        from archive import columns as stored
        from archive.store import now

        site_id = failure.request.meta["site"]["id"]
        archive.write(stored.record_discovery, site_id, archive.run_id, now(), 0, 0, "stale",
                                f"known column answered {response.status}: {failure.request.url}")
        self.crawler.stats.set_value(f"nianbao/site/{site_id}/discovery_stale", failure.request.url)

    def _count_discovery(self, site_id: str, name: str) -> None:
        from ..extension import count

        count(self.crawler.stats, site_id, name)

    # ------------------------------------------------------------------ responses

    def parse_discovery(self, response):
        state = response.meta["walk"]
        site = self._site_by_id[state["site_id"]]
        walk = self._walk_for(site)
        walk.answered += 1
        if not isinstance(response, TextResponse):
            return
        if not walk.government:  # `nianbao discover` without --name: the portal says whose it is
            walk.government = _site_name(response)
        if self._later_page(walk, response.url):
            return  # a known column's own later page (…/ndbg/2.htm) is that column, not a new one
        verdict = judge_column([item.title for item in page_items(site.cms, response)])
        if verdict.is_column:
            yield from self._found_column(site, walk, response, state, verdict)
        yield from self._follow_navigation(site, walk, response, state, column=verdict.is_column)

    @staticmethod
    def _later_page(walk: Walk, url: str) -> bool:
        return first_page(url) != url or any(same_column(url, known) and url != known for known in walk.columns)

    def _found_column(self, site, walk: Walk, response, state: dict, verdict):
        title = (response.xpath("//meta[@name='ColumnName']/@content").get()
                 or (state["path"][-1]["text"] if state["path"] else None)
                 or (response.xpath("//title/text()").get() or "").strip())
        column = {
            "url": response.url, "title": title, "agency": agency_name(walk.government, state["agency"]),
            "link_path": state["path"],
            "evidence": {"list_items": verdict.items, "reports_listed": verdict.reports, "sample": list(verdict.sample),
                         "depth": state["depth"]},
        }
        self._record_column(site, walk, column)
        if response.url in self._registry_urls:
            return  # a hand-written entry of the registry crawls it already
        yield from self.crawl_column(response, self._column_site(site, column))

    def _record_column(self, site, walk: Walk, column: dict) -> None:
        if column["url"] in walk.columns:
            return
        walk.columns[column["url"]] = column
        self._count_discovery(site.id, "columns_found")
        archive = self._discovery_archive()
        if archive is not None:
            from archive import columns as stored

            archive.write(stored.record_found, site.id, column, archive.run_id)

    def crawl_column(self, response, column_site: dict):
        """Read a discovered column as a start URL is read (the column spider overrides this)."""
        return []

    def _follow_navigation(self, site, walk: Walk, response, state: dict, column: bool = False):
        under_branch = any(step["kind"] in ("branch", "agency") for step in state["path"])
        links = []
        for anchor in response.xpath("//a[@href]"):
            walk.links_read += 1
            url = followable(response.urljoin(anchor.xpath("@href").get().strip()), walk.hosts)
            if url and column and (same_column(url, response.url) or first_page(url) != url):
                continue  # the column's own pager: its later pages are the column spider's to read
            text = "".join(anchor.xpath(".//text()").getall()) or anchor.xpath("@title").get() or ""
            scored = score_link(text, url, under_branch) if url else None
            if scored:
                links.append(scored)
        walk.links_scored += len(links)
        for link in sorted(links, key=lambda s: -s.score):
            if link.url in site.start_urls:  # the entry's own hand-written column, crawled from its start URL
                self._record_column(site, walk, {
                    "url": link.url, "title": link.text, "agency": site.name,
                    "link_path": [*state["path"], {"text": link.text, "url": link.url, "kind": link.kind}],
                    "evidence": {"registry": "a start URL of this registry entry"}})
                continue
            if link.url in self._registry_urls:
                walk.elsewhere.add(link.url)  # another registry entry's column: that entry crawls it
                continue
            if not walk.admit(link.url, state["depth"] + 1):
                continue
            agency = link.text if link.kind == "agency" else state["agency"]
            step = {"text": link.text, "url": link.url, "kind": link.kind, "score": link.score}
            yield self._walk_request(site, link.url, [*state["path"], step], agency, state["depth"] + 1)

    def discovery_failed(self, failure):
        request = failure.request
        state = request.meta.get("walk") or {}
        walk = self._walks.get(state.get("site_id"))
        if walk is None:
            return
        reason = str(failure.value) or type(failure.value).__name__
        if isinstance(failure.value, Blocked):
            walk.blocked.append(f"blocked: {request.url}: {reason}")
        else:
            walk.failures.append(f"{request.url}: {reason}")

    # ------------------------------------------------------------------ end

    def count_column_report(self, column: str | None) -> None:
        """A report the column lists (answered now or known from before): the column's count in ``columns``."""
        if column:
            self._column_reports = getattr(self, "_column_reports", {})
            self._column_reports[column] = self._column_reports.get(column, 0) + 1

    def finish_discovery(self) -> None:
        """Write each walk down, flag what vanished, and put each site's line in the stats."""
        archive = self._discovery_archive()
        stats = self.crawler.stats
        for site_id, walk in getattr(self, "_walks", {}).items():
            outcome, line = walk.outcome()
            if walk.capped:
                stats.set_value(f"nianbao/site/{site_id}/discovery_capped", walk.capped)
            stats.set_value(f"nianbao/site/{site_id}/discovery", line)
            stats.set_value(f"nianbao/site/{site_id}/discovery_outcome", outcome)
            if archive is None:
                continue
            from archive import columns as stored

            complete = outcome == "found" and not walk.blocked
            if complete:
                gone = archive.write(stored.flag_vanished, site_id, set(walk.columns)).result()  # at close
                if gone:
                    stats.set_value(f"nianbao/site/{site_id}/columns_vanished", len(gone))
            archive.write(stored.record_discovery, site_id, archive.run_id, walk.started, walk.requested,
                          len(walk.columns), outcome, line)
        if archive is not None and getattr(self, "_column_reports", None):
            from archive import columns as stored

            archive.write(stored.add_reports, self._column_reports)


def _site_name(response) -> str:
    name = response.xpath("//meta[@name='SiteName']/@content").get()
    if not name:
        title = (response.xpath("//title/text()").get() or "").strip()
        name = re.split(r"[_|\-—–]", title)[-1].strip() if title else ""
    return name or (urlsplit(response.url).hostname or "")


class DiscoverSpider(DiscoveryMixin, scrapy.Spider):
    """``nianbao discover URL``: only the walk; what it finds is printed, not crawled or stored."""

    name = "discover"
    records_columns = False

    def __init__(self, url: str = "", government: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ..sites import Site, _check_url

        _check_url("discover", url)
        host = urlsplit(url).hostname
        self.site = Site(id="discover", name=government or "", start_urls=(), portal=url, hosts=(host,))
        self.sites = [self.site]
        self._site_by_id = {self.site.id: self.site}
        from ..resolver import allow_entries

        allow_entries(self.sites)

    async def start(self):
        for request in self.discovery_start(self.site, set()):
            yield request

    def parse_list(self, response):  # never reached: discovered columns are not crawled here
        return []
