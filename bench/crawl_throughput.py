"""The sample portal scaled to 1,000 reports (mixed formats), crawled end to end with delays off:
reports per second and peak memory, against fetching the same URLs with a plain concurrent
downloader in the same run (the gap is our overhead: Scrapy, archive writes, WARC, fetch log).

    .venv/bin/python bench/crawl_throughput.py [--reports 1000]

The scaled portal is generated once into bench/.cache/ (a few minutes); later runs reuse it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache"
FORMATS = ["html"] * 6 + ["pdf"] * 3 + ["docx"]


def scaled_columns(reports: int):
    from sampleportal.generate import Column
    from sampleportal.reports import Planned

    columns, n = [], 0
    while n < reports:
        k = len(columns)
        family = ("trs", "generic", "vsb")[k % 3]
        agency = f"第{k + 1:03d}区人民政府"
        path = {"trs": f"/zwgk/bm{k:03d}/zfxxgkndbg/", "generic": f"/bm{k:03d}/ndbg/index.shtml",
                "vsb": f"/xxgk{k:03d}/ndbg.htm"}[family]
        years = range(2019, 2019 + min(6, reports - n))
        planned = [Planned(agency, y, FORMATS[(k + y) % len(FORMATS)]) for y in years]
        columns.append(Column(f"bm{k:03d}", family, "某市人民政府", f"{agency}年报", path, agency, "某省/某市",
                              planned, [f"{agency}政府信息公开指南"], per_page=4))
        n += len(planned)
    return columns


def build(reports: int) -> Path:
    from sampleportal.generate import generate

    target = CACHE / f"portal-{reports}"
    if not (target / "sites.yml").exists():
        started = time.perf_counter()
        generate(target / "site", scaled_columns(reports), meta=target, obstacles=False)
        print(f"generated {reports} reports in {time.perf_counter() - started:.0f}s")
    return target


def plain_download(urls: list[tuple[str, str | None]], workers: int = 16) -> float:
    def get(pair):
        url, referer = pair
        with urlopen(Request(url, headers={"Referer": referer} if referer else {}), timeout=30) as response:
            return len(response.read())

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(get, urls))
    elapsed = time.perf_counter() - started
    print(f"plain downloader ({workers} threads): {len(urls)} URLs, {total / 2**20:.1f} MiB in {elapsed:.1f}s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1000)
    args = parser.parse_args()
    portal_dir = build(args.reports)

    from sampleportal.server import Portal

    with Portal(site=portal_dir / "site", routes=portal_dir / "routes.json") as portal, \
            tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "archive"
        command = [sys.executable, "-m", "nianbao.cli", "crawl", "--sites", str(portal_dir / "sites.yml"),
                   "--portal-url", portal.url, "--data", str(data), "--no-extract",
                   "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR",
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "CONCURRENT_REQUESTS=16"]
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        crawl = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        db = sqlite3.connect(data / "nianbao.db")
        found = db.execute("SELECT count(*) FROM reports").fetchone()[0]
        urls = db.execute("SELECT url, referer FROM fetches WHERE outcome = 'fetched'").fetchall()
        size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) / 2**20
        print(f"nianbao crawl: {found} reports, {len(urls)} fetches in {crawl:.1f}s = {found / crawl:.1f} reports/s, "
              f"peak RSS {peak:.0f} MiB, archive {size:.0f} MiB (blobs + WARC + database)")
        baseline = plain_download(urls)
        print(f"overhead: crawl takes {crawl / baseline:.1f}x the plain download of the same URLs")
        started = time.perf_counter()
        extraction = subprocess.run([sys.executable, "-m", "nianbao.cli", "reextract", "--data", str(data)],
                                    cwd=ROOT, check=True, capture_output=True, text=True,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)})
        print(f"extraction (2 workers): {json.loads(extraction.stdout)['extracted']} documents in "
              f"{time.perf_counter() - started:.1f}s")
    shutil.rmtree(CACHE / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
