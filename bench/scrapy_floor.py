"""Scrapy's own floor: the same URLs fetched by a Scrapy spider that does nothing with them.

No parsing, no archive, no fetch log, no middlewares of ours: what Scrapy itself costs per request on
this machine. ``bench/crawl_throughput.py`` runs it beside the plain download and the real crawl, so
the gap between the crawl and the plain download splits into Scrapy's share and ours.

    .venv/bin python bench/scrapy_floor.py URLS.json   # [[url, referer or null], ...]; prints the seconds
    .venv/bin python bench/scrapy_floor.py URLS.json SETTINGS.json

With SETTINGS.json (``bench/national_crawl.py``), Scrapy alone under the crawl's own politeness: those settings
over the ones below, each URL entry ``[url, referer, {headers}, slot]`` (the crawl's conditional headers, and
its download slot: one per portal), and the URLs' hosts allowed by the crawl's address check as a crawl's
registry entries are (the resolver named in the settings is the crawl's).
"""

from __future__ import annotations

import json
import sys
import time

import scrapy
from scrapy.crawler import CrawlerProcess

SETTINGS = {
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_DELAY": 0,
    "ROBOTSTXT_OBEY": False,  # robots.txt is among the URLs, fetched as the crawl fetched it
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "LOG_LEVEL": "ERROR",
    "CONCURRENT_ITEMS": 8,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
}


class FloorSpider(scrapy.Spider):
    name = "floor"

    def __init__(self, urls: list, **kwargs):
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self):
        for url, referer, *more in self.urls:
            headers = {"Referer": referer} if referer else {}
            headers.update(more[0] if more else {})
            meta = {"download_slot": more[1]} if len(more) > 1 else {}
            yield scrapy.Request(url, headers=headers, meta=meta, dont_filter=True, callback=self.parse,
                                 errback=self.failed)

    def parse(self, response):
        return None

    def failed(self, failure):
        return None


def main() -> None:
    urls = json.loads(open(sys.argv[1], encoding="utf-8").read())
    settings = dict(SETTINGS)
    if len(sys.argv) > 2:
        from urllib.parse import urlsplit

        from crawler.resolver import allow_entries

        settings.update(json.loads(open(sys.argv[2], encoding="utf-8").read()))
        allow_entries([{"start_urls": sorted({f"http://{urlsplit(entry[0]).netloc}/" for entry in urls})}])
    started = time.perf_counter()
    process = CrawlerProcess(settings)
    process.crawl(FloorSpider, urls=urls)
    process.start()
    print(f"{time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main()
