"""What the crawl's archive writes cost per item, this tree against a baseline commit in the same run.

    .venv/bin/python bench/archive_writes.py [--items 2000] [--baseline c094097]

Each item is what the item pipeline and the fetch-log middleware do for one fetched document during a crawl
(grouped writes, a WARC open): report_of_url, ensure_report, store_payload with its HTTP exchange, log_fetch.
A second pass fetches every URL again: half answer 304 (touch_unchanged), half return the same bytes.
Two figures per pass and per tree: wall time per item with Python's os.fsync turned into a no-op (blob, directory
and WARC syncs: the shared disk would otherwise drown our own cost; SQLite's own sync at each group's commit
remains, in both trees), and SQL statements sent to SQLite per item. The machine is shared: read the ratio,
and run it twice.
The baseline's archive/ package is taken from git (``git archive``) and run in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKLOAD = r'''
import json, os, sys, time, tempfile
os.fsync = lambda fd: None  # the disk is shared and noisy: measure what our code costs
from archive.store import Archive
from archive.warc import Exchange

items = int(sys.argv[1])
data = tempfile.mkdtemp()
archive = Archive(data)
run = archive.start_run("crawl", ["bench"])
archive.group_writes()
archive.open_warc(run)
site = {"id": "bench", "name": "某市人民政府", "region": "某省/某市"}
archive.ensure_site(site)
statements = [0]
archive.db.conn.set_trace_callback(lambda sql: statements.__setitem__(0, statements[0] + 1))
headers = [("Content-Type", "application/pdf"), ("Content-Length", "2048"), ("ETag", '"abc"')]

def exchange(url, status=200):
    return Exchange(url=url, status=status, response_headers=headers, request_headers=[("User-Agent", "nianbao")])

def one(n, second):
    url = f"http://bench.gov.cn/ndbg/{n}.pdf"
    report = archive.report_of_url(url) or archive.ensure_report(f"第{n // 6:04d}局", 2019 + n % 6, "年报", site)
    if second and n % 2:
        archive.touch_unchanged(url, exchange(url, 304))
        outcome = "not_modified"
    else:
        body = b"%PDF-1.7 " + n.to_bytes(4, "big") * 512
        archive.store_payload(report_id=report, url=url, role="attachment", data=body, media_type="application/pdf",
                              fmt="pdf", title="年报", referer="http://bench.gov.cn/ndbg/", metadata={"n": n},
                              etag='"abc"', exchange=exchange(url))
        outcome = "fetched"
    archive.log_fetch(run_id=run, site_id="bench", url=url, status=200, bytes=2048, outcome=outcome)

result = {}
for name, second in (("first fetch", False), ("refetch", True)):
    statements[0] = 0
    started = time.perf_counter()
    for n in range(items):
        one(n, second)
    archive.flush_writes()
    result[name] = {"us_per_item": (time.perf_counter() - started) / items * 1e6, "sql_per_item": statements[0] / items}
archive.finish_run(run, "finished", {})
print(json.dumps(result))
'''


def measure(package_root: Path, items: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    out = subprocess.run([sys.executable, "-c", WORKLOAD, str(items)], env=env, capture_output=True, text=True,
                         check=True, cwd=package_root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_tree(ref: str, into: Path) -> Path:
    tar = subprocess.run(["git", "archive", ref, "archive"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(tar)) as bundle:
        bundle.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--baseline", default="c094097", help="the commit whose archive/ is the baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {f"baseline {args.baseline}": measure(baseline_tree(args.baseline, Path(tmp)), args.items),
                "this tree": measure(ROOT, args.items)}
    print(f"{args.items} items per pass, fsync off (CPU cost of our code only)")
    print(f"{'':24}{'pass':>14}{'µs/item':>10}{'SQL/item':>10}")
    for tree, result in runs.items():
        for name, figures in result.items():
            print(f"{tree:24}{name:>14}{figures['us_per_item']:>10.0f}{figures['sql_per_item']:>10.1f}")
    base, now = runs[f"baseline {args.baseline}"], runs["this tree"]
    for name in base:
        print(f"{name}: {base[name]['us_per_item'] / now[name]['us_per_item']:.2f}× faster than the baseline")


if __name__ == "__main__":
    main()
