"""The sample portal scaled to N reports (mixed formats), crawled end to end with delays off:
reports per second, memory over the run and archive size, against fetching the same URLs with a plain
concurrent downloader in the same run (the gap is our overhead: Scrapy, archive writes, WARC, fetch log).

    .venv/bin/python bench/crawl_throughput.py [--reports 1000|10000] [--before REV] [--no-synced] [--no-now]
                                               [--processes N] [--no-extract] [-s NAME=VALUE ...]

The crawls of the same portal, in this order: every write synced alone (NIANBAO_WRITE_GROUP=1: every blob, WARC
record and database row synced and committed alone; ``--no-synced`` skips it, ``--no-before`` and
``--no-baseline`` are its older names); then, for one process and for ``--processes N`` (default one per core,
``nianbao crawl --processes N``), the code of ``--before REV`` (checked out into a temporary git worktree, run
with its own settings) and this checkout's, back to back so that both meet the same load on the machine; then the
plain download and Scrapy alone. Memory: the RSS of the crawl's processes (the command, its Scrapy parts, the
writer) is read from /proc every 0.2 s; the largest value in each quarter of the run shows whether it grows with
the crawl (it must stay flat from 1,000 to 10,000 reports).

The plain download is the fair floor: the very URLs the crawl fetched (its fetch log: robots.txt, every
list page, article and attachment, in the crawl's order) with the same Referer headers, 16 threads,
each keeping its connection open between requests as Scrapy's pool does (the portal keeps connections
alive, as nginx does for HTTP/1.1 clients), bodies read and dropped. It is easier work than the crawl's
in one way: it knows every URL up front, where a crawl has to read a list page before it can ask for
its articles, and an article before its files. Its client shares the bench process with the portal
server, which is, if anything, in the crawl's favour. Run ``--plain-repeats`` times; the fastest counts.

Scrapy alone (``bench/scrapy_floor.py``: the same URLs, callbacks that do nothing, no archive) runs in as many
processes side by side as each crawl did, so each crawl's ratio splits into Scrapy's share and ours. nianbao's
share is a crawl's wall time over Scrapy alone's in as many processes (start-up included in both); the last
lines say it per process count, ``share, 1 process: before=2.70x after=1.40x (scrapy_alone=2.50s; …)`` with
``--before``, ``now=…`` without; then the same ratio in CPU seconds (the crawl's processes, writer included,
against Scrapy alone's), which other work on a shared machine disturbs less than wall time.

The scaled portal is generated once into bench/.cache/ (1,000 reports ~0.5 min, 10,000 ~3.5 min on 2 cores:
report files rendered by one process per core); later runs reuse it. Every report has its own figures,
agency and title, so no two files share bytes and the content-addressed archive cannot dedupe them.
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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from urllib.parse import urlsplit

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
        generate(target / "site", scaled_columns(reports), meta=target, obstacles=False, workers=os.cpu_count() or 1)
        print(f"generated {reports} reports in {time.perf_counter() - started:.0f}s")
    return target


def plain_download(urls: list[tuple[str, str | None]], workers: int = 16) -> tuple[float, int, int]:
    """Fetch every (url, referer) with ``workers`` threads, each keeping its connection open between requests
    (as Scrapy's connection pool does): seconds, bytes, failures."""
    local = threading.local()

    def fetch(url: str, referer: str | None) -> int:
        parts = urlsplit(url)
        connection = getattr(local, "connection", None)
        if connection is None or (connection.host, connection.port) != (parts.hostname, parts.port):
            connection = local.connection = HTTPConnection(parts.hostname, parts.port, timeout=60)
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else "") or "/",
                           headers={"Referer": referer} if referer else {})
        response = connection.getresponse()
        size = len(response.read())
        if response.will_close:
            connection.close()
        return size

    def get(pair):
        for _ in range(2):  # a kept connection the server has closed meanwhile fails once: open a new one
            try:
                return fetch(*pair), 0
            except (OSError, HTTPException):
                if getattr(local, "connection", None) is not None:
                    local.connection.close()
                local.connection = None
        return 0, 1

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(get, urls))
    return time.perf_counter() - started, sum(r[0] for r in results), sum(r[1] for r in results)


class RssPoller(threading.Thread):
    """Samples a process's resident set size until it exits (/proc/PID/status): VmRSS, and RssAnon, its
    heap and stacks without the mapped files and shared libraries, which is what grows when a crawl holds
    more and more in memory. The process's children (the archive's writer process) are added in."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples = pid, every, []  # (seconds since start, VmRSS MiB, RssAnon MiB)
        self.cpu: dict[int, tuple[str, float]] = {}  # pid: (its name, CPU seconds so far)
        self.started = time.perf_counter()

    def run(self) -> None:
        while True:
            own = _memory(self.pid)
            if own is None:  # exited (a zombie has no VmRSS)
                return
            rss, anon = own
            self._note_cpu(self.pid)
            for child in _descendants(self.pid):
                memory = _memory(child) or (0, 0)
                rss, anon = rss + memory[0], anon + memory[1]
                self._note_cpu(child)
            self.samples.append((time.perf_counter() - self.started, rss, anon))
            time.sleep(self.every)

    def _note_cpu(self, pid: int) -> None:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        fields = stat.rsplit(")", 1)[1].split()
        name = "the command" if pid == self.pid else stat[stat.index("(") + 1:stat.rindex(")")]
        self.cpu[pid] = (name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))

    def cpu_by_process(self) -> str:
        """CPU seconds of each process of the crawl, by name (the writer and the parts name themselves), as last
        read: what a process spent in its last 0.2 s is missing."""
        named = sorted(self.cpu.values(), key=lambda entry: entry[0])
        return ", ".join(f"{name} {seconds:.1f}s" for name, seconds in named if seconds >= 0.5)

    def quarters(self, elapsed: float, column: int = 1) -> list[float]:
        """The largest VmRSS (column 1) or RssAnon (column 2) seen in each quarter of the run (MiB)."""
        out = []
        for q in range(4):
            inside = [s[column] for s in self.samples if q * elapsed / 4 <= s[0] < (q + 1) * elapsed / 4]
            out.append(max(inside) if inside else float("nan"))
        return out


def _memory(pid: int) -> tuple[float, float] | None:
    """(VmRSS, RssAnon) of a process in MiB, or None once it has exited."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    except OSError:
        return None
    if "VmRSS" not in fields:
        return None
    return tuple(int(fields.get(k, "0 kB").split()[0]) / 1024 for k in ("VmRSS", "RssAnon"))


def _descendants(pid: int) -> list[int]:
    try:
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return [d for child in children for d in (child, *_descendants(child))]


def crawl(portal_dir: Path, portal_url: str, data: Path, extra: list[str], root: Path = ROOT) -> dict:
    """One real `nianbao crawl` (delays off) of the code in ``root`` (this checkout, or the ``--before`` one):
    wall time, CPU, peak RSS and RSS over time of the crawl process, and the bench process's own CPU meanwhile
    (that is the portal server's work)."""
    command = [sys.executable, "-m", "nianbao.cli", "crawl", "--sites", str(portal_dir / "sites.yml"),
               "--portal-url", portal_url, "--data", str(data), "--no-extract",
               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "CONCURRENT_REQUESTS=16", *extra]
    own = os.times()
    started = time.perf_counter()
    # the console summary (one row per column) goes to a file: a pipe would fill and stall the crawl
    with tempfile.TemporaryFile() as console:
        process = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=console,
                                   env={**os.environ, "PYTHONPATH": str(root)})
        poller = RssPoller(process.pid)
        poller.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        poller.join()
        if status != 0:
            console.seek(0)
            raise SystemExit(f"crawl failed ({status}): {console.read().decode(errors='replace')[-2000:]}")
    mine = os.times()
    # the polled sum of the crawl and its writer process, not getrusage's: that is the larger of the two alone,
    # and it counts the pages a child shares with this process between its fork and its exec
    peak = max(sample[1] for sample in poller.samples)
    return {"elapsed": elapsed, "peak": peak, "quarters": poller.quarters(elapsed),
            "anon": poller.quarters(elapsed, column=2),
            "cpu": usage.ru_utime + usage.ru_stime, "cpu_by_process": poller.cpu_by_process(),
            "portal_cpu": (mine.user - own.user) + (mine.system - own.system)}


def archive_figures(data: Path) -> dict:
    db = sqlite3.connect(data / "nianbao.db")
    try:
        started_at, finished_at = db.execute("SELECT started, finished FROM runs ORDER BY id DESC").fetchone()
        return {
            "reports": db.execute("SELECT count(*) FROM reports").fetchone()[0],
            "urls": db.execute("SELECT url, referer FROM fetches WHERE outcome = 'fetched' ORDER BY id").fetchall(),
            "run": (datetime.fromisoformat(finished_at) - datetime.fromisoformat(started_at)).total_seconds(),
            "sizes": {part: sum(p.stat().st_size for p in (data / part).rglob("*") if p.is_file()) / 2**20
                      for part in ("blobs", "warcs")} | {"nianbao.db": (data / "nianbao.db").stat().st_size / 2**20},
        }
    finally:
        db.close()


def report_crawl(name: str, run: dict, figures: dict) -> None:
    found, elapsed = figures["reports"], run["elapsed"]
    sizes = figures["sizes"]
    print(f"nianbao crawl, {name}: {found} reports, {len(figures['urls'])} URLs in {elapsed:.1f}s = "
          f"{found / elapsed:.1f} reports/s (start_run to finish_run {figures['run']:.0f}s, the rest start-up)")
    print(f"  the crawl's processes (command, Scrapy parts, writer): CPU {run['cpu']:.1f}s, peak RSS {run['peak']:.0f} MiB, largest RSS per quarter of the run "
          + " / ".join(f"{m:.0f}" for m in run["quarters"]) + " MiB (RssAnon "
          + " / ".join(f"{m:.0f}" for m in run["anon"]) + f"); portal server (this process) CPU {run['portal_cpu']:.1f}s")
    print(f"  CPU by process: {run['cpu_by_process']}")
    print(f"  archive {sum(sizes.values()):.0f} MiB: " + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()))


def scrapy_floor(urls: list, tmp: Path, processes: int = 1) -> tuple[float, float]:
    """Wall time and CPU of bench/scrapy_floor.py over the URLs, as ``processes`` processes side by side, each
    with every ``processes``-th URL (a reactor runs once per process; ``--processes N`` splits a crawl the same
    way)."""
    started = time.perf_counter()
    running = []
    for part in range(processes):
        listing = tmp / f"floor-urls-{part}.json"
        listing.write_text(json.dumps([list(pair) for pair in urls[part::processes]]), encoding="utf-8")
        running.append(subprocess.Popen([sys.executable, str(ROOT / "bench" / "scrapy_floor.py"), str(listing)],
                                        cwd=ROOT, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)}))
    cpu = 0.0
    for process in running:
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise SystemExit("bench/scrapy_floor.py failed")
        cpu += usage.ru_utime + usage.ru_stime
    return time.perf_counter() - started, cpu


@contextmanager
def checkout(rev: str):
    """The code of ``rev`` in a temporary git worktree (detached; removed afterwards). It crawls the portal this
    checkout generated and serves."""
    target = Path(tempfile.mkdtemp(prefix="nianbao-before-"))
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(target), rev], cwd=ROOT, check=True)
    try:
        yield target
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(target)], cwd=ROOT, check=False)
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)


def plan_runs(args, before_root: Path | None) -> list[tuple[str, list[str], int, Path, str]]:
    """(name, extra arguments, processes, code root, role) of each crawl, in the order they run: for each process
    count, the ``--before`` code and then this checkout's back to back, so that both meet the same load."""
    # the process count is always said: the scaled portal is a broad registry, which nianbao crawl would split over
    # every core by itself (NIANBAO_BROAD_CRAWL_SITES), making the one-process run a two-process one
    synced = ["-s", "NIANBAO_WRITE_GROUP=1", "--processes", "1"]
    runs = [("every write synced alone", synced, 1, ROOT, "synced")] if args.synced else []
    counts = [1] + ([args.processes] if args.processes > 1 else [])
    for processes in counts if args.now else ():
        split = ["--processes", str(processes)]
        label = f", --processes {processes}" if processes > 1 else ""
        if before_root is not None:
            runs.append((f"before ({args.before}){label}", split, processes, before_root, "before"))
        runs.append((f"current code (now){label}", split, processes, ROOT, "now"))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--before", metavar="REV",
                        help="also crawl with the code of this git revision (a temporary worktree), back to back with "
                             "this checkout's, and print nianbao's share of both (e.g. --before main)")
    parser.add_argument("--no-synced", "--no-before", "--no-baseline", dest="synced", action="store_false",
                        help="skip the crawl with every write synced alone (NIANBAO_WRITE_GROUP=1); --no-before and "
                             "--no-baseline are its older names")
    parser.add_argument("--no-now", dest="now", action="store_false",
                        help="skip the crawls with the current settings (and the --before ones)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="also crawl with `--processes N` (default: one per core; 1 to skip)")
    parser.add_argument("--no-extract", dest="extract", action="store_false",
                        help="skip timing `nianbao reextract` over the last crawl's archive")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="skip bench/scrapy_floor.py (Scrapy fetching the same URLs with nothing of ours)")
    parser.add_argument("--plain-repeats", type=int, default=3, help="plain downloads to run; the fastest counts")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy/nianbao setting for every crawl (e.g. CONCURRENT_ITEMS=4)")
    args = parser.parse_args()
    if not (args.synced or args.now):
        parser.error("nothing to compare: --no-synced and --no-now together")
    if args.before and not args.now:
        parser.error("--before compares with this checkout's crawl: not with --no-now")
    started = time.perf_counter()
    portal_dir = build(args.reports)
    print(f"portal ready in {time.perf_counter() - started:.0f}s")
    settings = [arg for setting in args.set for arg in ("-s", setting)]

    from sampleportal.server import Portal

    with ExitStack() as stack:
        before_root = stack.enter_context(checkout(args.before)) if args.before else None
        if before_root is not None:
            revision = subprocess.run(["git", "log", "-1", "--format=%h %s", "HEAD"], cwd=before_root, check=True,
                                      capture_output=True, text=True).stdout.strip()
            print(f"before: {args.before} = {revision[:100]}")
        portal = stack.enter_context(Portal(site=portal_dir / "site", routes=portal_dir / "routes.json"))
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        runs = plan_runs(args, before_root)
        timings = []
        for n, (name, extra, processes, root, role) in enumerate(runs):
            data = Path(tmp) / f"archive{n}"
            run = crawl(portal_dir, portal.url, data, extra + settings, root=root)
            figures = archive_figures(data)
            report_crawl(name, run, figures)
            timings.append((name, run["elapsed"], figures["run"], processes, role, run["cpu"]))
            if n < len(runs) - 1:
                shutil.rmtree(data)  # 10,000 reports' archive is large: keep only the last
        urls = figures["urls"]
        plain = []
        for _ in range(max(1, args.plain_repeats)):
            seconds, size, failures = plain_download(urls)
            plain.append(seconds)
            print(f"plain downloader (16 threads): {len(urls)} URLs, {size / 2**20:.1f} MiB in {seconds:.1f}s"
                  + (f", {failures} FAILED" if failures else ""))
        baseline = min(plain)
        floors, floor_cpu = {}, {}  # Scrapy alone, by the number of processes the crawl ran in
        for processes in sorted({run[2] for run in runs}) if args.floor else ():
            floor, cpu = scrapy_floor(urls, Path(tmp), processes)
            floors[processes], floor_cpu[processes] = floor, cpu
            print(f"Scrapy alone (bench/scrapy_floor.py: the same URLs and Referers, callbacks that do nothing, no "
                  f"archive{f'; {processes} processes side by side, the URLs dealt out in turn' if processes > 1 else ''}"
                  f"): {floor:.1f}s = {floor / baseline:.1f}x the plain download, CPU {cpu:.1f}s")
        for name, elapsed, engine, processes, _, _ in timings:
            floor = floors.get(processes)
            print(f"overhead, {name}: the crawl takes {elapsed / baseline:.1f}x the plain download of the same URLs "
                  f"({figures['reports'] / elapsed:.1f} against {figures['reports'] / baseline:.1f} reports/s; "
                  f"start_run to finish_run alone {engine / baseline:.1f}x)")
            if floor:
                print(f"  of which Scrapy's own floor {floor / baseline:.1f}x; nianbao's share (parsing, archive, "
                      f"fetch log, start-up) {elapsed / floor:.1f}x Scrapy alone")
        for processes, floor in floors.items():
            runs_here = [(role, elapsed, cpu) for _, elapsed, _, n, role, cpu in timings if n == processes and role != "synced"]
            if runs_here:
                named = [("after" if role == "now" and args.before else role, elapsed, cpu) for role, elapsed, cpu in runs_here]
                print(f"share, {processes} process{'es' if processes > 1 else ''}: "
                      + " ".join(f"{role}={elapsed / floor:.2f}x" for role, elapsed, _ in named)
                      + f" (scrapy_alone={floor:.2f}s; in CPU seconds, against Scrapy alone's {floor_cpu[processes]:.1f}s: "
                      + " ".join(f"{role}={cpu / floor_cpu[processes]:.2f}x" for role, _, cpu in named) + ")")
        if args.extract:
            started = time.perf_counter()
            extraction = subprocess.run([sys.executable, "-m", "nianbao.cli", "reextract", "--data", str(data)],
                                        cwd=ROOT, check=True, capture_output=True, text=True,
                                        env={**os.environ, "PYTHONPATH": str(ROOT)})
            print(f"extraction ({os.cpu_count()} workers): {json.loads(extraction.stdout)['extracted']} documents in "
                  f"{time.perf_counter() - started:.1f}s")
    shutil.rmtree(CACHE / "tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
