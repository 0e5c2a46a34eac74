"""The sample portal scaled to 1,000 reports (mixed formats), crawled end to end with delays off:
reports per second and peak memory, against fetching the same URLs with a plain concurrent
downloader in the same run (the gap is our overhead: Scrapy, archive writes, WARC, fetch log).

    .venv/bin/python bench/crawl_throughput.py [--reports 1000] [--no-baseline]

Two crawls of the same portal run: the old way (NIANBAO_WRITE_GROUP=1: every blob, WARC record and database
row synced and committed alone) and the current one (grouped writes), then the plain download.

The scaled portal is generated once into bench/.cache/ (a few minutes); later runs reuse it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
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


def crawl(portal_dir: Path, portal_url: str, data: Path, extra: list[str]) -> tuple[float, float]:
    """One real `nianbao crawl` (delays off): its wall time and its own peak RSS in MiB."""
    command = [sys.executable, "-m", "nianbao.cli", "crawl", "--sites", str(portal_dir / "sites.yml"),
               "--portal-url", portal_url, "--data", str(data), "--no-extract",
               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "CONCURRENT_REQUESTS=16", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"crawl failed ({status}): {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--no-baseline", action="store_true", help="skip the crawl with every write synced alone")
    args = parser.parse_args()
    portal_dir = build(args.reports)

    from sampleportal.server import Portal

    with Portal(site=portal_dir / "site", routes=portal_dir / "routes.json") as portal, \
            tempfile.TemporaryDirectory() as tmp:
        runs = [("grouped writes (now)", [])]
        if not args.no_baseline:  # the old way, in the same run: every blob, WARC record and row synced alone
            runs.insert(0, ("every write synced alone (before)", ["-s", "NIANBAO_WRITE_GROUP=1"]))
        figures = {}
        for n, (name, extra) in enumerate(runs):
            data = Path(tmp) / f"archive{n}"
            elapsed, peak = crawl(portal_dir, portal.url, data, extra)
            db = sqlite3.connect(data / "nianbao.db")
            found = db.execute("SELECT count(*) FROM reports").fetchone()[0]
            urls = db.execute("SELECT url, referer FROM fetches WHERE outcome = 'fetched'").fetchall()
            size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) / 2**20
            started_at, finished_at = db.execute("SELECT started, finished FROM runs ORDER BY id DESC").fetchone()
            engine = (datetime.fromisoformat(finished_at) - datetime.fromisoformat(started_at)).total_seconds()
            figures[name] = elapsed
            print(f"nianbao crawl, {name}: {found} reports, {len(urls)} fetches in {elapsed:.1f}s = "
                  f"{found / elapsed:.1f} reports/s, peak RSS {peak:.0f} MiB, archive {size:.0f} MiB "
                  f"(of which the run itself, start_run to finish_run: {engine:.0f}s; the rest is start-up)")
        baseline = plain_download(urls)
        for name, elapsed in figures.items():
            print(f"overhead, {name}: the crawl takes {elapsed / baseline:.1f}x the plain download of the same URLs")
        started = time.perf_counter()
        extraction = subprocess.run([sys.executable, "-m", "nianbao.cli", "reextract", "--data", str(data)],
                                    cwd=ROOT, check=True, capture_output=True, text=True,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)})
        print(f"extraction ({os.cpu_count()} workers): {json.loads(extraction.stdout)['extracted']} documents in "
              f"{time.perf_counter() - started:.1f}s")
    shutil.rmtree(CACHE / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
