"""Screenshots of the site's main pages at 1280 and 390 px, in Debian's Chromium.

    python docs/screenshots/make.py http://127.0.0.1:8001 [REPORT_ID] [AGENCY_ID] [QUERY]

Run against `nianbao demo` (the sample portal's archive). Writes docs/screenshots/*.png.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def main(url: str, report: str = "9", agency: str = "4", query: str = "行政复议") -> None:
    from playwright.sync_api import sync_playwright

    pages = {"home": "/", "report": f"/-/report/{report}", "agency": f"/-/agency/{agency}",
             "search": f"/-/search?q={quote(query)}"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        for width in (1280, 390):
            page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
            for name, path in pages.items():
                page.goto(url + path)
                page.screenshot(path=str(HERE / f"{name}-{width}.png"), full_page=width == 1280, clip=None)
            page.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
