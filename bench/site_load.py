"""Load test of the public site: 50 concurrent clients against `nianbao serve` for 60 s, mixing
search, report pages, CSV exports and hostile SQL. Prints p50/p95 per kind, errors, peak RSS
of the server (with its children), and whether the server stayed up.

    PYTHONPATH=. .venv/bin/python bench/site_load.py [--data DIR] [--clients 50] [--seconds 60]

Baseline in the same run: the same clients with no hostile SQL for a quarter of the time first.
Without --data, the sample portal is crawled once into bench/.cache/site-load/ (`nianbao demo`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache" / "site-load"
QUERIES = ["复议", "行政复议", "依申请公开", "赣州", "泉州 卫生", "予以公开", "政府信息公开", "诉讼", "景德镇", "不予公开"]
HOSTILE = [
    "select randomblob(1000000000)",
    "select zeroblob(2000000000)",
    "select randomblob(3000000) from versions",
    "select group_concat(a.text) from versions a, versions b, versions c",
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "select replace(hex(zeroblob(100000000)), '00', 'aaaa')",
    "select * from cells a, cells b, cells c order by random()",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, tree_rss_kb(self.pid))
            time.sleep(0.1)


def ensure_archive(data: Path | None) -> Path:
    if data:
        return data
    if not (CACHE / "nianbao.db").exists():
        subprocess.run([sys.executable, "-m", "nianbao.cli", "demo", "--no-serve", "--data", str(CACHE)], check=True,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    return CACHE


def requests_for(rng: random.Random, report_ids: list[int], hostile: bool) -> tuple[str, str]:
    kinds = ["search", "report", "csv", "home"] + (["hostile"] if hostile else [])
    kind = rng.choices(kinds, weights=[4, 4, 2, 1] + ([2] if hostile else []))[0]
    if kind == "search":
        return kind, f"/-/search?q={quote(rng.choice(QUERIES))}&sort={rng.choice(['relevance', 'newest'])}"
    if kind == "report":
        return kind, f"/-/report/{rng.choice(report_ids)}"
    if kind == "csv":
        return kind, rng.choice(["/nianbao/report_figures.csv?_size=max",
                                 f"/nianbao/most_requests.csv?year={rng.randint(2019, 2024)}&_bom=1",
                                 "/nianbao/cells.csv?_stream=on&_size=max"])
    if kind == "home":
        return kind, "/"
    return kind, f"/nianbao.json?sql={quote(rng.choice(HOSTILE))}"


async def client(session, url, rng, report_ids, hostile, until, results):
    while time.monotonic() < until:
        kind, path = requests_for(rng, report_ids, hostile)
        started = time.monotonic()
        try:
            async with session.get(url + path) as response:
                size = 0
                async for chunk in response.content.iter_chunked(65536):
                    size += len(chunk)
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            status, size = type(error).__name__, 0
        results.append((kind, status, time.monotonic() - started, size))


async def phase(url, clients, seconds, report_ids, hostile) -> list:
    results = []
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=clients)) as session:
        until = time.monotonic() + seconds
        await asyncio.gather(*(client(session, url, random.Random(i), report_ids, hostile, until, results)
                               for i in range(clients)))
    return results


def report(title: str, results: list) -> None:
    print(f"\n{title}: {len(results)} requests")
    print(f"  {'kind':8} {'n':>6} {'p50':>8} {'p95':>8} {'max':>8} {'MB max':>7}  statuses")
    for kind in ("home", "search", "report", "csv", "hostile"):
        rows = [r for r in results if r[0] == kind]
        if not rows:
            continue
        times = sorted(r[2] * 1000 for r in rows)
        statuses = {}
        for r in rows:
            statuses[r[1]] = statuses.get(r[1], 0) + 1
        print(f"  {kind:8} {len(rows):6d} {statistics.median(times):7.0f}ms {times[int(0.95 * (len(times) - 1))]:7.0f}ms "
              f"{times[-1]:7.0f}ms {max(r[3] for r in rows) / 2**20:7.1f}  {statuses}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    data = ensure_archive(args.data)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "serve", "--data", str(data), "--port", str(port)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # its own group: serve may run Datasette as a child
    url = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/-/versions.json", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        import sqlite3

        report_ids = [r[0] for r in sqlite3.connect(data / "nianbao.db").execute("SELECT id FROM reports")]
        idle = tree_rss_kb(server.pid)
        sampler = Sampler(server.pid)
        sampler.start()
        baseline = asyncio.run(phase(url, args.clients, max(args.seconds // 4, 5), report_ids, hostile=False))
        baseline_peak = sampler.peak
        mixed = asyncio.run(phase(url, args.clients, args.seconds, report_ids, hostile=True))
        sampler.running = False
        alive = server.poll() is None and urllib.request.urlopen(url + "/-/report/1").status == 200
        print(f"server: {args.clients} clients; RSS idle {idle / 1024:.0f} MiB, peak without hostile SQL "
              f"{baseline_peak / 1024:.0f} MiB, peak with it {sampler.peak / 1024:.0f} MiB")
        report(f"baseline, no hostile SQL ({max(args.seconds // 4, 5)} s)", baseline)
        report(f"mixed with hostile SQL ({args.seconds} s)", mixed)
        failures = [r for r in mixed if r[0] != "hostile" and r[1] != 200]
        print(f"\nnormal requests that failed during the mixed phase: {len(failures)}; "
              f"server still answering after the run: {alive}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # serve and the Datasette it started
        server.wait(10)


if __name__ == "__main__":
    main()
