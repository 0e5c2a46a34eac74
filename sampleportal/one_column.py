"""A portal of one plain 年报 column, written into a directory: for tests and benchmarks that need
files the sample portal does not have (very large ones, odd deliveries). Served by ``Portal``.

    site/ndbg/index.html      the column: one item per year
    site/ndbg/<year>.html     each article page, linking its report file
    site/ndbg/<name>          the files
    routes.json               download URLs answered from files, with an optional ``delivery``
    sites.yml                 the registry entry (cms: generic)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Article:
    year: int
    link: str  # the report file's URL on the portal
    padding: int = 0  # characters of comment, to make the page itself large


def article_html(agency: str, article: Article) -> str:
    return (f"<html><head><meta charset='utf-8'><title>{agency}{article.year}年报</title></head><body>"
            f"<div class='content'><p>详见附件。</p><a href='{article.link}'>"
            f"{agency}{article.year}年政府信息公开工作年度报告.pdf</a>"
            f"<!-- {'填' * article.padding} --></div></body></html>")


def write(root: Path, agency: str, articles: list[Article], files: dict[str, bytes],
          routes: dict[str, dict] | None = None) -> Path:
    """Write the portal; return the registry file to crawl it with."""
    column = root / "site" / "ndbg"
    column.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (column / name).write_bytes(data)
    listing = "".join(f"<li><a href='/ndbg/{a.year}.html' title='{agency}{a.year}年政府信息公开工作年度报告'>"
                      f"{agency}{a.year}年报</a><span>{a.year + 1}-01-20</span></li>" for a in articles)
    (column / "index.html").write_text(
        f"<html><head><meta charset='utf-8'></head><body><ul class='list'>{listing}</ul></body></html>", "utf-8")
    for article in articles:
        (column / f"{article.year}.html").write_text(article_html(agency, article), "utf-8")
    (root / "routes.json").write_text(json.dumps(routes or {}), "utf-8")
    registry = root / "sites.yml"
    registry.write_text(f"sites:\n  - id: one-column\n    name: {agency}\n    region: 某省/某市\n    cms: generic\n"
                        "    start_urls:\n      - ${PORTAL}/ndbg/index.html\n", "utf-8")
    return registry
