"""What an operator sees while a crawl runs: a live table per site in a terminal, warnings on the console,
Scrapy's full log in a file under the data directory."""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"


def console() -> Console:
    """stderr; outside a terminal as wide as a table needs, so no site id is cut to ``qzl…``."""
    if sys.stderr.isatty():
        return Console(stderr=True)
    return Console(stderr=True, width=400, soft_wrap=True)


def log_file(data: Path, command: str) -> Path:
    folder = Path(data) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{command}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}.log"


_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}


def quiet_logging_on_full_disk() -> None:
    """A log file on a full disk must not turn every later log record into a "--- Logging error ---" traceback
    on stderr: the storage failure is said once, by the command. Other logging errors are still shown."""
    if getattr(logging.Handler.handleError, "nianbao", False):
        return
    shown = logging.Handler.handleError

    def handle_error(handler, record):
        error = sys.exc_info()[1]
        if not (isinstance(error, OSError) and error.errno in _STORAGE_ERRNOS):
            shown(handler, record)

    handle_error.nianbao = True
    logging.Handler.handleError = handle_error


def _level(value) -> int:
    if isinstance(value, int):
        return value
    return logging.getLevelNamesMapping().get(str(value).upper(), logging.INFO)


def console_warnings(scrapy_level, out: Console | None = None) -> logging.Handler:
    """Scrapy logs to its file; the console gets warnings and worse (or the stricter level asked for)."""
    if out is not None and out.is_terminal:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=out, show_path=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_ConsoleFilter(max(logging.WARNING, _level(scrapy_level))))
    logging.root.addHandler(handler)
    return handler


class _ConsoleFilter(logging.Filter):
    """Warnings and worse, and Scrapy's answer to a Ctrl-C (logged at INFO): whoever pressed it must see
    that the crawl is closing gracefully, or that a second one forced it."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "console", True) is False:  # said on the console by the command itself
            return False
        return record.levelno >= self.level or (
            record.name == "scrapy.crawler" and str(record.msg).startswith("Received %(signame)s"))


class CrawlProgress:
    """Per site: pages fetched, reports found, files archived, redrawn a few times a second."""

    def __init__(self, crawler, site_ids: list[str], out: Console):
        from scrapy import signals

        self.stats = crawler.stats
        self.counts = {site: Counter() for site in site_ids}
        self.out = out
        self.live = None
        crawler.signals.connect(self._response, signal=signals.response_received)
        crawler.signals.connect(self._item, signal=signals.item_scraped)

    @staticmethod
    def _site(request) -> str | None:
        return ((request.meta if request is not None else {}).get("site") or {}).get("id")

    def _response(self, response, request, spider=None):
        from crawler.downloads import STREAM_TO_DISK

        site = self._site(request)
        if site and STREAM_TO_DISK not in request.meta:
            self.counts.setdefault(site, Counter())["pages"] += 1

    def _item(self, item, response, spider=None):
        site = self._site(getattr(response, "request", None))
        if site and isinstance(item, dict) and item.get("role") == "attachment":
            self.counts.setdefault(site, Counter())["files"] += 1

    def render(self) -> Table:
        table = Table(title="crawling", title_justify="left")
        for name in ("site", "pages", "reports", "files"):
            table.add_column(name, justify="left" if name == "site" else "right")
        for site, counts in sorted(self.counts.items()):
            reports = self.stats.get_value(f"nianbao/site/{site}/reports_found", 0)
            table.add_row(site, str(counts["pages"]), str(reports), str(counts["files"]))
        return table

    def __enter__(self):
        from rich.live import Live

        self.live = Live(get_renderable=self.render, console=self.out, refresh_per_second=4, transient=True)
        self.live.start()
        return self

    def __exit__(self, *exc):
        self.live.stop()
        return False
