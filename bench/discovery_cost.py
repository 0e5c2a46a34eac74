"""Requests discovery spends per portal, against the number of pages the portal has.

Three portals, served on 127.0.0.1 and walked by `nianbao discover` (the real Scrapy engine):
  sample      the sample portal as shipped (洛江区's front door, 7 年报 columns, look-alikes)
  +news       the same with a news section of 3,000 articles on 150 list pages linked from the home page
  +news+depts the same again with 60 more departments, each with its own 年报 column
The baseline, in the same run: every HTML page reachable from the root over same-host links
(a plain breadth-first fetch, as a site crawler without discovery would make).

    .venv/bin/python bench/discovery_cost.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
GK = "/zwgk/zfxxgkzl/"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def _fetch(url: str) -> list[str] | None:
    """The page's links; None when it is not an HTML page (an error, a file)."""
    try:
        with urlopen(url, timeout=10) as response:
            if "html" not in response.headers.get("Content-Type", ""):
                return None
            body = response.read().decode("utf-8", "replace")
    except (HTTPError, OSError):
        return None
    parser = _Links()
    parser.feed(body)
    return [urldefrag(urljoin(url, h))[0] for h in parser.hrefs]


def reachable_pages(root: str) -> int:
    """Breadth-first over every same-host link: the HTML pages a crawl without discovery fetches."""
    host = urlsplit(root).netloc
    seen, frontier, pages = {root}, deque([root]), 0
    with ThreadPoolExecutor(8) as pool:
        while frontier:
            batch = [frontier.popleft() for _ in range(min(len(frontier), 64))]
            for links in pool.map(_fetch, batch):
                if links is None:
                    continue
                pages += 1
                for link in links:
                    if urlsplit(link).netloc == host and link not in seen and not re.search(r"\.(pdf|docx?|css|js)$", link):
                        seen.add(link)
                        frontier.append(link)
    return pages


def add_news(site: Path, articles: int = 3000, per_page: int = 20) -> None:
    pages = articles // per_page
    for p in range(pages):
        items = "".join(f'<li><a href="/xwzx/a{p * per_page + i}.html">洛江新闻第{p * per_page + i}条</a></li>'
                        for i in range(per_page))
        nxt = f'<a href="/xwzx/index_{p + 1}.html">下一页</a>' if p + 1 < pages else ""
        name = "index.html" if p == 0 else f"index_{p}.html"
        (site / "xwzx").mkdir(exist_ok=True)
        (site / "xwzx" / name).write_text(f"<html><head><meta charset='utf-8'></head><body><ul>{items}</ul>{nxt}"
                                          "</body></html>", encoding="utf-8")
    for n in range(articles):
        (site / "xwzx" / f"a{n}.html").write_text(f"<html><head><meta charset='utf-8'></head><body><p>新闻{n}</p>"
                                                  '<a href="/xwzx/">要闻动态</a></body></html>', encoding="utf-8")
    home = site / "index.html"
    home.write_text(home.read_text(encoding="utf-8").replace("</body>", '<a href="/xwzx/">要闻动态 更多</a></body>'),
                    encoding="utf-8")


def add_departments(site: Path, count: int = 60) -> None:
    index = site / GK.strip("/") / "bmzfxxgk" / "index.html"
    links = []
    for n in range(count):
        code, name = f"dept{n:02d}", f"第{n + 1}号局"
        base = site / GK.strip("/") / "bmzfxxgk" / code
        (base / "zfxxgkndbg").mkdir(parents=True, exist_ok=True)
        (base / "index.html").write_text(
            "<html><head><meta charset='utf-8'></head><body><ul><li><a href='zfxxgkndbg/'>政府信息公开年报</a></li>"
            "<li><a href='jgzn/'>机构职能</a></li></ul></body></html>", encoding="utf-8")
        items = "".join(f"<li><a href='{y}.html'>泉州市洛江区{name}{y}年政府信息公开工作年度报告</a></li>"
                        for y in (2022, 2023, 2024))
        (base / "zfxxgkndbg" / "index.html").write_text(
            f"<html><head><meta charset='utf-8'></head><body><ul class='list'>{items}</ul></body></html>", "utf-8")
        links.append(f'<li><a href="{GK}bmzfxxgk/{code}/">{name}</a></li>')
    index.write_text(index.read_text(encoding="utf-8").replace("</ul></div>", "".join(links) + "</ul></div>", 1),
                     encoding="utf-8")


def discover(url: str) -> tuple[int, int, float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "nianbao.cli", "discover", url, "--max-pages", "1000", *FAST],
                            capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})
    seconds = time.perf_counter() - started
    match = re.search(r"(\d+) column\(s\) in (\d+) page\(s\)", result.stderr)
    if not match:
        raise SystemExit(f"discover failed: {result.stderr[-500:]}")
    return int(match.group(1)), int(match.group(2)), seconds


def main() -> None:
    from sampleportal.server import HERE, SITE, Portal

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        variants = [("sample", []), ("+news", [add_news]), ("+news+depts", [add_news, add_departments])]
        for name, changes in variants:
            site = Path(tmp) / name
            shutil.copytree(SITE, site)
            for change in changes:
                change(site)
            with Portal(site=site, routes=HERE / "routes.json") as server:
                pages = reachable_pages(server.url + "/")
                before = len(server.state.log)
                columns, walked, seconds = discover(server.url + "/")
                hits = len(server.state.log) - before  # robots.txt included
            rows.append((name, pages, columns, walked, hits, seconds))
    print(f"{'portal':<13}{'pages (BFS)':>12}{'columns':>9}{'walk pages':>11}{'discovery requests':>20}{'share':>8}"
          f"{'seconds':>9}")
    for name, pages, columns, walked, hits, seconds in rows:
        print(f"{name:<13}{pages:>12}{columns:>9}{walked:>11}{hits:>20}{hits / pages:>8.1%}{seconds:>9.1f}")
    print("walk pages: pages the walk requested; discovery requests: every request the server saw, robots.txt included; "
          "pages (BFS): HTML pages reachable from the root over same-host links")


if __name__ == "__main__":
    main()
