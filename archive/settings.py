"""nianbao's own settings, named once, for every process that reads them.

Each ``NIANBAO_*`` name below is a Scrapy setting: crawler/settings.py takes its default from here,
``nianbao crawl -s NAME=VALUE`` or a Scrapyd job's ``setting=NAME=VALUE`` overrides it, and the crawl's
components read it from the crawler's settings (``from_crawler``). The commands that run no crawl
(``reextract``, ``merge``, ``import``, ``export``) and the Datasette site read the same names through
``value`` here, at the time they need them (never at import).

The environment overrides a setting only where ``ENVIRONMENT`` names it (README "Settings"): the
extraction workers and limits of a machine, and the site's public address and SQL limits, which are set
where the process starts (a systemd unit, a container), not on a command line. A setting given on the
command line wins over the environment. The extraction limits are the machine's only: no command line
sets them.

This module lives in archive/ because archive/ may not import crawler/; crawler/ imports it.
"""

from __future__ import annotations

import os

DEFAULTS: dict[str, object] = {
    # extraction workers, wherever extraction runs (nianbao crawl's stage, reextract, merge, a shard's run);
    # 0: one per core
    "NIANBAO_EXTRACT_WORKERS": 0,
    # a Scrapy run extracts what it fetched before it ends (a Scrapyd shard, so that merge finds it read);
    # nianbao crawl extracts in its own stage instead, with a progress bar
    "NIANBAO_EXTRACT_IN_CRAWL": False,
    "NIANBAO_EXTRACT_TIME_LIMIT": 90.0,  # seconds per document
    "NIANBAO_EXTRACT_MEMORY_LIMIT": 4096.0,  # MiB of address space per worker; LibreOffice needs a lot of it
    # where the site is reached from outside, for absolute links in feeds and exports; empty: each request's
    # own Host on the site (archive/site_config.py), the local `nianbao serve` address in an export
    "NIANBAO_PUBLIC_URL": "",
    # set by `nianbao serve` for its Datasette: its own address, for links made without a request
    "NIANBAO_SERVE_URL": "",
    "NIANBAO_SQL_TIME_LIMIT_MS": 1000,  # one query of the site (Datasette's sql_time_limit_ms)
    "NIANBAO_SQL_MAX_LENGTH": 4_000_000,  # bytes of one value a query may build
    "NIANBAO_SQL_HEAP_MB": 256,  # SQLite memory per connection of the site
    "NIANBAO_SQL_MAX_RESULT_MB": 16,  # bytes one query may return
    "NIANBAO_SQL_AT_ONCE": 1,  # arbitrary SQL queries run at a time
}
# a machine's limits and a site's address: set where the process starts; the rest only as settings
ENVIRONMENT = frozenset(set(DEFAULTS) - {"NIANBAO_EXTRACT_IN_CRAWL"})

_TRUE = ("1", "true", "yes", "on")


def _typed(name: str, text) -> object:
    default = DEFAULTS[name]
    if isinstance(default, bool):
        return text if isinstance(text, bool) else str(text).strip().lower() in _TRUE
    if isinstance(default, int):
        return int(float(text))
    if isinstance(default, float):
        return float(text)
    return str(text)


def value(name: str, given=None):
    """The setting ``name``: from ``given`` (a crawler's Scrapy settings, where set above the project's defaults,
    or a command's ``-s`` pairs), else from the environment where ``ENVIRONMENT`` allows it, else its default."""
    if name not in DEFAULTS:
        raise KeyError(f"{name} is not a nianbao setting")
    if given is not None:
        if hasattr(given, "getpriority"):
            from scrapy.settings import SETTINGS_PRIORITIES

            if (given.getpriority(name) or 0) > SETTINGS_PRIORITIES["project"]:
                return _typed(name, given.get(name))
        elif given.get(name) not in (None, ""):
            return _typed(name, given[name])
    if name in ENVIRONMENT and os.environ.get(name, "").strip():
        return _typed(name, os.environ[name].strip())
    return DEFAULTS[name]


def extract_workers(given=None) -> int:
    """NIANBAO_EXTRACT_WORKERS, 0 meaning one per core."""
    return max(1, value("NIANBAO_EXTRACT_WORKERS", given) or os.cpu_count() or 2)
