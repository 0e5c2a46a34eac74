"""``nianbao discover URL``: one portal's walk with the real Scrapy engine, printed as registry YAML."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml


def run_discovery(url: str, scratch: Path, settings: dict, name: str | None = None):
    """Walk the portal at URL; return the finished Walk. The fetch log goes to a scratch archive."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.sites import RegistryError
    from crawler.spiders.discovery import DiscoverSpider

    merged = Settings()
    merged.setmodule("crawler.settings", priority="project")
    merged.set("NIANBAO_DATA", str(scratch), priority="cmdline")
    merged.set("ITEM_PIPELINES", {}, priority="cmdline")
    for key, value in settings.items():
        merged.set(key, value, priority="cmdline")
    process = CrawlerProcess(merged)
    crawler = process.create_crawler(DiscoverSpider)
    try:
        process.crawl(crawler, url=url, government=name)
    except RegistryError as exc:
        raise ValueError(str(exc)) from exc
    process.start()
    walk = crawler.spider._walks["discover"]
    walk.finished = True
    return walk


def _slug(host: str) -> str:
    label = re.sub(r"^www\.", "", host).split(".")[0]
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "portal"


def _column_id(host: str, url: str) -> str:
    parts = [p for p in urlsplit(url).path.split("/") if p and "." not in p]
    tail = "-".join(parts[-2:]) if parts else "root"
    return f"{_slug(host)}-{re.sub(r'[^a-z0-9]+', '-', tail.lower()).strip('-') or 'column'}"


def evidence_lines(column: dict) -> list[str]:
    path = " > ".join(step["text"] for step in column["link_path"]) or "(the entry page itself)"
    ev = column["evidence"]
    lines = [f"found by: {path}"]
    if "reports_listed" in ev:
        lines.append(f"list: {ev['reports_listed']} of {ev['list_items']} items are annual reports")
    lines += [f"  e.g. {title}" for title in ev.get("sample", [])]
    return lines


def registry_yaml(url: str, walk) -> str:
    """Registry YAML (crawler/sites format) of the columns found, each with its evidence as comments."""
    host = urlsplit(url).hostname or ""
    outcome, line = walk.outcome()
    out = [f"# nianbao discover {url}", f"# {line}", f"# government: {walk.government}", "sites:"]
    if not walk.columns:
        return "\n".join(out[:-1] + ["sites: []"]) + "\n"
    for column in walk.columns.values():
        entry = {"id": _column_id(host, column["url"]), "name": column["agency"], "start_urls": [column["url"]],
                 "notes": f"discovered: {column['title']}"}
        out += [f"  # {text}" for text in evidence_lines(column)]
        block = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=200)
        out += ["  " + row for row in block.splitlines()]
    return "\n".join(out) + "\n"
