"""Screenshots of the site's main pages at 1366 and 390 px, in Debian's Chromium.

    python docs/screenshots/make.py http://127.0.0.1:8001 [REPORT_ID] [AGENCY_ID] [QUERY]

Run against `nianbao demo` (the sample portal's archive; import ../shared/real/docs/pingtan_2021.txt
for a report with a table not read). Writes docs/screenshots/*.png.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
WIDTHS = (1366, 390)


def main(url: str, report: str = "9", agency: str = "4", query: str = "行政复议", gap_report: str = "") -> None:
    from playwright.sync_api import sync_playwright

    pages = {"home": "/", "report": f"/-/report/{report}", "agency": f"/-/agency/{agency}",
             "region": f"/-/region?province={quote('福建省')}&city={quote('泉州市')}&county={quote('洛江区')}",
             "builder": f"/-/tables?county={quote('洛江区')}&year=2023&table={quote('三')}",
             "table": "/nianbao/report_figures", "search": f"/-/search?q={quote(query)}"}
    if gap_report:
        pages["report-gap"] = f"/-/report/{gap_report}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
            for name, path in pages.items():
                page.goto(url + path)
                page.screenshot(path=str(HERE / f"{name}-{width}.png"), full_page=width != 390)
            page.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
