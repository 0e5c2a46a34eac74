"""Polite defaults; every one can be overridden with ``nianbao crawl -s NAME=VALUE``.

The nianbao settings that commands and the site read too (extraction, public address, SQL limits) take their
defaults from archive/settings.py, the one place they are named; the crawl's components read every setting
from the crawler's settings in ``from_crawler``.
"""

from archive import settings as shared

BOT_NAME = "nianbao"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "nianbao/0.1 (+https://github.com/nianbao/nianbao; archive of OGI annual reports)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Scrapy starts this many tasks for the output of every callback, whatever it yields; ours yield a handful
# (a list page's items, an article's attachments): 100 (the default) cost a third of a fast crawl's CPU
CONCURRENT_ITEMS = 8
# Responses waiting to be scraped or stored, in bytes (a report file streamed to disk counts as 1 KiB): Scrapy's
# 5 MB lets thousands of stored-to-disk responses queue for the archive's writer process (~100 MiB of objects);
# this keeps memory flat at the same speed (bench/crawl_throughput.py)
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 300_000
DOWNLOAD_DELAY = 2
DOWNLOAD_DELAY_JITTER = 0.5  # ±50 %, so requests do not arrive on a beat
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
RETRY_TIMES = 2
DOWNLOAD_MAXSIZE = 100 * 1024 * 1024  # report files: streamed to disk, cut off at this size
DOWNLOAD_WARNSIZE = 20 * 1024 * 1024
NIANBAO_PAGE_MAXSIZE = 20 * 1024 * 1024  # list and article pages: held in memory to be parsed
NIANBAO_STREAM_DOCUMENTS = True  # False: report files are buffered in memory as Scrapy does by default
DOWNLOAD_HANDLERS = {
    "http": "crawler.downloads.DiskStreamingDownloadHandler",
    "https": "crawler.downloads.DiskStreamingDownloadHandler",
}
# every resolved address checked at connect time: no private, loopback or link-local address unless a registry
# entry points at it (crawler/resolver.py)
TWISTED_DNS_RESOLVER = "crawler.resolver.GuardedResolver"
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 runs an HTTP server executing posted Python code ("remote control"), token in a file under
# the home directory: a crawl listens on nothing (SECURITY.md, tests/test_listening.py)
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

# process_request runs in rising order, process_response in falling order.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.HostGuardMiddleware": 40,  # before robots.txt (100)
    "crawler.middlewares.ResumeMiddleware": 45,
    # Scrapy's own, its refusal raised as a type of ours so that the fetch log can tell it apart
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsMiddleware": 100,
    # HostGuard replaces it: per registry entry, private addresses too, and a logged reason
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.ConditionalRequestMiddleware": 800,
    "crawler.middlewares.FetchLogMiddleware": 950,
}
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.DownloadSlotMiddleware": 900,  # the slot a request is downloaded in, known when it is made
}
# The archive, the run record and the crawl's counters (crawler/extension.py); not configured without NIANBAO_DATA.
EXTENSIONS = {
    "crawler.extension.ArchiveExtension": 100,
}
ITEM_PIPELINES = {
    "crawler.item_pipelines.archive_payload.ArchivePayloadPipeline": 100,
}

# A run that extracts what it fetched before it ends (a Scrapyd shard: -d setting=NIANBAO_EXTRACT_IN_CRAWL=True), in
# NIANBAO_EXTRACT_WORKERS workers (0: one per core); False leaves it to `nianbao crawl`'s own extraction stage,
# `merge` or `reextract`.
NIANBAO_EXTRACT_IN_CRAWL = shared.DEFAULTS["NIANBAO_EXTRACT_IN_CRAWL"]
NIANBAO_EXTRACT_WORKERS = shared.DEFAULTS["NIANBAO_EXTRACT_WORKERS"]
# The time and memory limits of one extraction are the machine's: NIANBAO_EXTRACT_TIME_LIMIT and
# NIANBAO_EXTRACT_MEMORY_LIMIT, from the environment (archive/settings.py).

# Archive writes committed in groups: one fsync per touched file and one commit per NIANBAO_WRITE_GROUP writes
# or NIANBAO_WRITE_GROUP_SECONDS, whichever comes first (a kill loses at most that group; the next run refetches it).
NIANBAO_WRITE_GROUP = 64
NIANBAO_WRITE_GROUP_SECONDS = 1.0

# A broad crawl (nianbao/crawling.py with_broad_crawl): a registry of NIANBAO_BROAD_CRAWL_SITES entries or more
# (the national registry, a province) runs with these under whatever -s sets, and by default in one process per
# core. Each is from Scrapy's "Broad Crawls" guide and kept because bench/national_crawl.py measured it helping
# (README, "National scale").
NIANBAO_BROAD_CRAWL_SITES = 50
NIANBAO_BROAD_CRAWL_SETTINGS = {
    # the next request is taken from the portal with the fewest in the downloader, not in the order found: the
    # default queue fills the downloader with one portal's sixty columns while the others wait
    "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
}
NIANBAO_BROAD_REQUESTS_PER_SITE = 2  # CONCURRENT_REQUESTS = this per registry entry …
NIANBAO_BROAD_MAX_REQUESTS = 2048  # … up to this
# The run's request bound (NIANBAO_MAX_REQUESTS) grows with a broad crawl's registry to this many per entry: a
# county portal is some 1,100–1,350 requests, so the national registry's first crawl is ~4 million, and 200,000
# would close it a twentieth of the way through
NIANBAO_BROAD_RUN_REQUESTS_PER_SITE = 5000

# Where the archive lives; `nianbao crawl --data DIR` sets it.
NIANBAO_DATA = "data"

# Bounds: a column or a run can never grow without end (endless 下一页 chains, a pager declaring
# 5,000,000 pages). Each one, when hit, is recorded in the fetch log and the crawl summary.
NIANBAO_MAX_LIST_PAGES_PER_COLUMN = 200
NIANBAO_MAX_ITEMS_PER_COLUMN = 5000
NIANBAO_MAX_REQUESTS = 200000  # per run; 0 = no bound
# Discovery (registry entries with a `portal:` root; crawler/discovery.py). The caps bound one
# portal's walk; when one is hit the per-site summary says so.
# pages requested per portal while looking for its 年报 columns: a county portal of 60 departments and 20 townships
# needs about 170 (an index page and a column page per agency); 150 left 2 % of the columns of such portals unfound in
# the national bench at full size (bench/national_crawl.py --size full), 300 none. A walk ends sooner where there is
# less to walk; the cap bounds what a trap costs.
NIANBAO_DISCOVERY_MAX_PAGES = 300
NIANBAO_DISCOVERY_MAX_DEPTH = 6  # links from the root (首页 → 政务公开 → … → a department's 年报 column is 5)
NIANBAO_REDISCOVER_DAYS = 30  # a nightly run crawls known columns; it walks a portal again after this many days
NIANBAO_REDISCOVER = False  # `nianbao crawl --rediscover`: walk every portal now
# A crawl of an archive that already holds a column's reports (the nightly run) asks for every list page
# (conditionally, but in full on its column's night of the same rotation: crc32(column URL)) and every new item, but
# not again for a known report's article page and files, except on the night its turn comes: once every
# NIANBAO_RECHECK_DAYS days, the night its URL hashes to (crc32(url) % N == day % N), so ~1/N of them are re-checked
# (conditionally) each night and each within N days. A known report is asked again at once when its list title
# changed, or its last visit failed (the page or a file) or was cut short (a killed, stopped or bounded run). 0 or 1:
# every known report every run, every list page in full. Not asked is counted per site: `known`.
NIANBAO_RECHECK_DAYS = 30
NIANBAO_RECHECK_DATE = ""  # the day the rotation is computed for (YYYY-MM-DD); empty: today (UTC)
