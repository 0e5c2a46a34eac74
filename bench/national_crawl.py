"""A national crawl on one machine, simulated: N virtual portals named from the national registry, each county-sized,
crawled by the real ``nianbao crawl`` at the shipped politeness, then crawled again as the nightly pass does.

    .venv/bin/python bench/national_crawl.py --portals 100 [--size full|small] [--processes N]
                                             [--side-by-side] [--no-nightly] [--no-floor] [-s NAME=VALUE ...]

The portals (bench/national_portal.py) are rows of ../shared/registry/portals.csv, read in place and spread
over it; one local aiohttp server answers them all by Host header, with real-portal latency and faults. The
crawl reaches it through the sample portal's test resolver (``TWISTED_DNS_RESOLVER=sampleportal.resolver.
PortalResolver`` with ``NIANBAO_TEST_ADDRESSES`` naming every portal host): that is the bench's explicit opt-in;
the address check stays on (a registry entry's own name may resolve to 127.0.0.1, nothing else may), and the
registry is checked as a real one is (``--allow-any-host`` only because some registry hosts are not under gov.cn).
Nothing else is changed: DOWNLOAD_DELAY 2 s with its jitter, one request at a time per portal, AutoThrottle.

What it prints, for the first pass and then the nightly pass:
- wall time, requests (the fetch log's rows) and requests per second, outcomes by type, reports found;
- the politeness lower bound: the largest per-portal request count × DOWNLOAD_DELAY (no schedule can beat it);
- Scrapy alone: bench/scrapy_floor.py on the very requests the crawl made (its fetch log, in order; the nightly's
  with the conditional headers the crawl sent), under the same politeness, download slots and settings:
  the floor of the chosen engine;
- CPU by process (the crawl's processes, the writer, the portal server), RSS per quarter of the run;
- ``national: wall=… bound=… scrapy_alone=… ratio=…``, ratio = wall / max(bound, scrapy_alone);
- for the nightly pass also its share of the first pass's requests and bytes.

``--side-by-side`` runs Scrapy alone at the same time as the crawl, on a server of its own, from the list of
every URL the portals hold (a complete crawl's requests, known in advance): half the wall time when neither
is bound by CPU (few portals); without it (the default) Scrapy alone runs after the crawl on the crawl's own
fetch log, which is the fairer floor and the only one at a size where CPU is the bound.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from itertools import zip_longest
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from crawl_throughput import RssPoller  # noqa: E402
from national_portal import COLUMNS_OF_REGISTRY, planned_urls, registry_rows  # noqa: E402

from crawler import settings as shipped  # noqa: E402
from crawler.hosts import registrable_domain  # noqa: E402
from nianbao.crawling import default_processes, with_broad_crawl  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
# The politeness and engine settings Scrapy alone takes from the crawl (shipped values, then the run's -s).
FLOOR_KEYS = ("CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "DOWNLOAD_DELAY_JITTER",
              "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_TARGET_CONCURRENCY",
              "DOWNLOAD_TIMEOUT", "RETRY_TIMES", "USER_AGENT", "TWISTED_REACTOR", "REACTOR_THREADPOOL_MAXSIZE",
              "SCHEDULER_PRIORITY_QUEUE", "LOG_LEVEL_FLOOR")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_registry(rows: list[dict], port: int, path: Path) -> None:
    """The bench's registry: the rows as they are, their portal roots on the local server's port, over HTTP."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS_OF_REGISTRY)
        writer.writeheader()
        for row in rows:
            host = urlsplit(row["portal_url"]).hostname
            writer.writerow({**{k: row.get(k, "") for k in COLUMNS_OF_REGISTRY}, "portal_url": f"http://{host}:{port}/",
                             "gk_url": "", "nianbao_url": ""})


@contextmanager
def portal_server(registry: Path, port: int, night: int, size: str, tmp: Path):
    """The virtual portals on 127.0.0.1:port for one pass; yields a dict that holds the server's counts and CPU
    once it has stopped."""
    stats_path = tmp / f"server-{port}-{night}.json"
    process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "national_portal.py"), str(registry), str(port),
                                str(night), size, str(stats_path)], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True)
    out: dict = {}
    try:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("the virtual portal server did not start")
        yield out
    finally:
        cpu = _cpu_seconds(process.pid)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if stats_path.exists():
            out.update(json.loads(stats_path.read_text()))
        out["cpu"] = cpu


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resolver_settings(rows: list[dict]) -> list[str]:
    hosts = sorted({urlsplit(row["portal_url"]).hostname for row in rows})
    return ["-s", "TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver",
            "-s", "NIANBAO_TEST_ADDRESSES=" + ",".join(f"{host}=127.0.0.1" for host in hosts)]


def crawl(registry: Path, data: Path, settings: list[str], processes: int, log: Path) -> dict:
    """One real ``nianbao crawl`` over the bench registry: wall time, CPU by process, RSS per quarter."""
    command = [sys.executable, "-m", "nianbao.cli", "crawl", "--portals", str(registry), "--allow-any-host",
               "--data", str(data), "--no-extract", "--processes", str(processes), *settings]
    started = time.perf_counter()
    with log.open("wb") as console:
        process = subprocess.Popen(command, cwd=ROOT, stdout=console, stderr=subprocess.STDOUT, env=ENV)
        poller = RssPoller(process.pid, every=1.0)
        poller.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        poller.join()
    code = os.waitstatus_to_exitcode(status)
    return {"elapsed": elapsed, "exit": code, "cpu": usage.ru_utime + usage.ru_stime,
            "cpu_by_process": poller.cpu_by_process(), "quarters": poller.quarters(elapsed),
            "anon": poller.quarters(elapsed, column=2)}


def run_figures(data: Path) -> dict:
    """The last run's requests from the fetch log: per portal, by outcome, bytes, and the reports it found."""
    db = sqlite3.connect(data / "nianbao.db")
    try:
        run_id = db.execute("SELECT max(id) FROM runs").fetchone()[0]
        rows = db.execute("SELECT url, referer, outcome, coalesce(bytes, 0), site_id FROM fetches WHERE run_id = ? "
                          "ORDER BY id", [run_id]).fetchall()
        spans = db.execute("SELECT site_id, count(*), (julianday(max(fetched_at)) - julianday(min(fetched_at))) * 86400, "
                           "sum(outcome = 'timeout') FROM fetches WHERE run_id = ? GROUP BY site_id "
                           "ORDER BY 3 DESC LIMIT 3", [run_id]).fetchall()
        etags = dict(db.execute("SELECT url, etag FROM fetches WHERE run_id < ? AND etag IS NOT NULL "
                                "AND etag != '' ORDER BY id", [run_id]).fetchall())
        found = db.execute("SELECT coalesce(sum(reports_found), 0), coalesce(sum(new_reports), 0) FROM run_sites "
                           "WHERE run_id = ?", [run_id]).fetchone()
    finally:
        db.close()
    per_portal = Counter(registrable_domain(urlsplit(url).hostname or "") for url, *_ in rows)
    return {"run_id": run_id, "requests": rows, "spans": spans, "etags": etags, "per_portal": per_portal,
            "outcomes": Counter(row[2] for row in rows), "bytes": sum(row[3] for row in rows),
            "reports_found": found[0], "new_reports": found[1]}


def floor_settings(extra: list[str], tmp: Path, rows: list[dict], processes: int = 1) -> Path:
    """Scrapy alone's settings: the engine settings the crawl runs with (shipped, the broad-crawl profile a registry
    this large gets, the run's -s over both; CONCURRENT_REQUESTS divided among the processes as the crawl divides
    it), the same resolver."""
    given = dict(pair.split("=", 1) for pair in extra[1::2])
    engine = {**{key: getattr(shipped, key) for key in FLOOR_KEYS if hasattr(shipped, key)},
              **with_broad_crawl(len(rows), given)}
    settings = {name: value for name, value in engine.items()
                if name in FLOOR_KEYS or name.startswith(("TWISTED_DNS", "NIANBAO_TEST", "SCHEDULER", "DOWNLOADER",
                                                          "REACTOR", "JOBDIR"))}
    settings["CONCURRENT_REQUESTS"] = max(1, int(settings["CONCURRENT_REQUESTS"]) // processes)
    settings["LOG_LEVEL"] = "ERROR"
    path = tmp / "floor-settings.json"
    path.write_text(json.dumps(settings, ensure_ascii=False))
    return path


def scrapy_alone(entries: list, settings: Path, tmp: Path, processes: int) -> dict:
    """bench/scrapy_floor.py over ``entries`` ([url, referer, headers, slot]), a process per crawl process, each
    with whole portals (as ``--processes`` deals them out)."""
    started = time.perf_counter()
    running = []
    slots = sorted({entry[3] for entry in entries})
    for part in range(processes):
        listing = tmp / f"floor-{part}.json"
        # in the crawl's own order, portals interleaved: grouped by portal, Scrapy takes its start requests while
        # the downloader has room, so the first portal's requests would fill it and wait out that portal's delay
        ours = set(slots[part::processes])
        mine = [entry for entry in entries if entry[3] in ours]
        listing.write_text(json.dumps(mine, ensure_ascii=False), encoding="utf-8")
        running.append(subprocess.Popen([sys.executable, str(ROOT / "bench" / "scrapy_floor.py"), str(listing),
                                         str(settings)], cwd=ROOT, stdout=subprocess.DEVNULL, env=ENV))
    cpu = 0.0
    for process in running:
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise SystemExit("bench/scrapy_floor.py failed")
        cpu += usage.ru_utime + usage.ru_stime
    return {"elapsed": time.perf_counter() - started, "cpu": cpu, "requests": len(entries)}


def floor_entries(figures: dict, conditional: bool) -> list:
    """The crawl's own requests as Scrapy alone asks them: same URL, Referer, conditional header, slot. The fetch log
    has a row per attempt; an attempt that failed and was tried again is left to Scrapy alone's own retries (the
    same RETRY_TIMES), else a dead portal's six timed-out attempts would be asked three times each."""
    rows = figures["requests"]
    last = {row[0]: n for n, row in enumerate(rows)}
    out = []
    for n, (url, referer, outcome, _size, _site) in enumerate(rows):
        if outcome != "fetched" and last[url] != n:
            continue
        headers = {}
        if conditional and figures["etags"].get(url):
            headers["If-None-Match"] = figures["etags"][url]
        out.append([url, referer, headers, registrable_domain(urlsplit(url).hostname or "")])
    return out


def run_setting(settings: list[str], name: str) -> float:
    """A number the run's politeness is set by: as -s set it, else as shipped (Scrapy's default where the project
    sets none)."""
    from scrapy.settings import Settings

    given = [pair.split("=", 1)[1] for pair in settings[1::2] if pair.startswith(name + "=")]
    if given:
        return float(given[-1])
    merged = Settings()
    merged.setmodule(shipped)
    return merged.getfloat(name)


def bound(figures: dict, seconds: float, timeout: float) -> tuple[float, str]:
    """The politeness lower bound: one request at a time per portal, each taking at least DOWNLOAD_DELAY, and a timed
    out one DOWNLOAD_TIMEOUT (a dead portal's attempts cannot overlap either): the largest such sum over portals."""
    cost: Counter = Counter()
    timeouts: Counter = Counter()
    for url, _referer, outcome, _size, _site in figures["requests"]:
        domain = registrable_domain(urlsplit(url).hostname or "")
        cost[domain] += timeout if outcome == "timeout" else seconds
        timeouts[domain] += outcome == "timeout"
    if not cost:
        return 0.0, "no requests"
    portal, lower = cost.most_common(1)[0]
    return lower, (f"busiest registrable domain {portal}: {figures['per_portal'][portal]} requests"
                   + (f" ({timeouts[portal]} timed out, {timeout:g}s each)" if timeouts[portal] else "")
                   + f" x {seconds:g}s")


def report(name: str, run: dict, figures: dict, floor: dict | None, server: dict, first: dict | None,
           seconds: float, settings: list[str]) -> None:
    wall, requests = run["elapsed"], len(figures["requests"])
    lower, busiest = bound(figures, seconds, run_setting(settings, "DOWNLOAD_TIMEOUT"))
    print(f"{name}: {requests} requests in {wall:.0f}s = {requests / wall:.1f}/s, exit {run['exit']}, "
          f"{figures['reports_found']} reports ({figures['new_reports']} new), {figures['bytes'] / 2**20:.0f} MiB")
    print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in figures["outcomes"].most_common()))
    print(f"  politeness bound: {busiest} = {lower:.0f}s")
    print("  longest portals (first to last request): " + ", ".join(
        f"{site} {count} requests in {seconds:.0f}s" + (f" ({timeouts} timed out)" if timeouts else "")
        for site, count, seconds, timeouts in figures["spans"]))
    print(f"  CPU: crawl {run['cpu']:.0f}s ({run['cpu_by_process']}); portal server {server.get('cpu', 0):.0f}s")
    print("  RSS per quarter: " + " / ".join(f"{m:.0f}" for m in run["quarters"]) + " MiB (RssAnon "
          + " / ".join(f"{m:.0f}" for m in run["anon"]) + ")")
    print(f"  server: {server.get('counts')}; most requests in flight to one portal: {server.get('most_in_flight')}")
    if first:
        print(f"  share of the first pass: requests {requests / max(1, len(first['requests'])):.1%}, "
              f"bytes {figures['bytes'] / max(1, first['bytes']):.1%}")
    alone = floor["elapsed"] if floor else float("nan")
    if floor:
        print(f"  Scrapy alone: {floor['requests']} requests in {alone:.0f}s, CPU {floor['cpu']:.0f}s")
    print(f"national: wall={wall:.0f}s bound={lower:.0f}s scrapy_alone={alone:.0f}s "
          f"ratio={wall / max(lower, alone if floor else 0, 1e-9):.2f}")


def one_pass(args, registry: Path, data: Path, tmp: Path, night: int, rows: list, settings: list, first=None):
    port = args.port
    side = None
    log = tmp / f"crawl-{night}.log"
    with portal_server(registry, port, night, args.size, tmp) as server:
        if args.side_by_side and args.floor and night == 0:
            side = _side_by_side_floor(rows, args, settings, tmp)
        run = crawl(registry, data, settings, args.processes, log)
        if side is not None:
            floor = _finish(side)
    figures = run_figures(data)
    if run["exit"] not in (0, 4):  # 4: some portals failed (the faults the bench injects)
        print(log.read_text(errors="replace")[-3000:])
        raise SystemExit(f"the crawl failed: exit {run['exit']}")
    if args.floor and side is None:
        with portal_server(registry, port, night, args.size, tmp):
            floor = scrapy_alone(floor_entries(figures, conditional=first is not None),
                                 floor_settings(settings, tmp, rows, args.processes), tmp, args.processes)
    report("first pass" if night == 0 else f"nightly pass (night {night})", run, figures,
           floor if args.floor else None, server, first, run_setting(settings, "DOWNLOAD_DELAY"), settings)
    return figures


def _side_by_side_floor(rows, args, settings, tmp):
    """Scrapy alone on a server of its own, started now, over every URL the portals hold."""
    port = free_port()
    registry = tmp / "floor-registry.csv"
    write_registry(rows, port, registry)
    by_portal: dict[str, list] = {}
    for url, referer in planned_urls(rows, port, args.size):
        slot = registrable_domain(urlsplit(url).hostname or "")
        by_portal.setdefault(slot, []).append([url, referer, {}, slot])
    # portals interleaved, as a crawl asks them (see scrapy_alone)
    entries = [entry for group in zip_longest(*by_portal.values()) for entry in group if entry]
    context = portal_server(registry, port, 0, args.size, tmp)
    server = context.__enter__()
    listing = tmp / "floor-0.json"
    listing.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "scrapy_floor.py"), str(listing),
                                str(floor_settings(settings, tmp, rows))], cwd=ROOT, stdout=subprocess.DEVNULL, env=ENV)
    return {"process": process, "started": started, "context": context, "server": server, "requests": len(entries)}


def _finish(side: dict) -> dict:
    _, status, usage = os.wait4(side["process"].pid, 0)
    elapsed = time.perf_counter() - side["started"]
    side["context"].__exit__(None, None, None)
    if status != 0:
        raise SystemExit("bench/scrapy_floor.py failed")
    return {"elapsed": elapsed, "cpu": usage.ru_utime + usage.ru_stime, "requests": side["requests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portals", type=int, default=100, help="registry rows to crawl (spread over the registry)")
    parser.add_argument("--size", choices=("full", "small"), default="full",
                        help="full: 30–60 department and 10–20 township columns per portal; small: 3–6 and 1–2")
    parser.add_argument("--processes", type=int, default=None,
                        help="nianbao crawl --processes (default: the crawl's own, one per core for a broad crawl)")
    parser.add_argument("--side-by-side", action="store_true", help="Scrapy alone during the first pass (see above)")
    parser.add_argument("--no-nightly", dest="nightly", action="store_false", help="only the first pass")
    parser.add_argument("--no-floor", dest="floor", action="store_false", help="skip Scrapy alone")
    parser.add_argument("--keep", type=Path, help="keep the archive and logs in this directory")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy/nianbao setting for the crawl (and Scrapy alone where it is an engine setting)")
    args = parser.parse_args()
    args.port = free_port()
    rows = registry_rows(args.portals)
    if args.processes is None:
        args.processes = default_processes(len(rows), dict(pair.split("=", 1) for pair in args.set))
    with tempfile.TemporaryDirectory(dir=args.keep) as scratch:
        tmp = Path(scratch)
        registry, data = tmp / "registry.csv", tmp / "archive"
        write_registry(rows, args.port, registry)
        settings = resolver_settings(rows) + [arg for pair in args.set for arg in ("-s", pair)]
        print(f"{len(rows)} portals ({args.size}), {args.processes} crawl process(es); settings: "
              + (" ".join(args.set) or "as shipped"), flush=True)
        first = one_pass(args, registry, data, tmp, 0, rows, settings)
        if args.nightly:
            one_pass(args, registry, data, tmp, 1, rows, settings, first=first)
        if args.keep:
            os.rename(tmp, args.keep / f"national-{args.portals}-{int(time.time())}")
            tmp.mkdir()


if __name__ == "__main__":
    main()
