"""Where a crawl's time goes: one `nianbao crawl` of the scaled sample portal (delays off, as
bench/crawl_throughput.py runs it) under py-spy, its samples grouped the way the crawl's work divides:

    (a) the Scrapy/Twisted/asyncio engine, per request
    (b) our spider callbacks (crawler/spiders, crawler/cms, crawler/recognition …)
    (c) our downloader middlewares and download handler (Scrapy's HTTP client runs inside the latter)
    (d) archive writes on the reactor thread (store_payload, WARC, SQLite, the fetch log)
    (e) start-up and shutdown outside the reactor; other threads (fsync workers) apart

    .venv/bin/python bench/crawl_profile.py [--reports 1000] [--rate 200] [--top 8] [--gil] [--writer]
                                            [-s NAME=VALUE ...]

``--writer`` samples the archive's writer process instead (attached once it has started): its time by function,
inclusive (what it spends per document: WARC records, gzip, blobs, SQL; and the run's end: CDXJ, summary).

Needs py-spy (`pip install .[bench]`). Shares of the reactor thread are what matter: the crawl is bound by
that one thread when the portal answers faster than it reads (the bench process's CPU, the portal's, is
printed beside the crawl's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl_throughput import ROOT, _descendants, build  # noqa: E402

REACTOR = "AsyncioSelectorReactor.run"
MIDDLEWARES = ("(crawler/middlewares.py", "(crawler/downloads.py", "(crawler/hosts.py", "(crawler/blocks.py")


def _name(frame: str) -> str:
    return frame.split(" (")[0]


def classify(frames: list[str]) -> tuple[str, str]:
    """(group, detail) of one sampled stack, frames outermost first."""
    stack = ";".join(frames)
    if REACTOR not in stack:
        if frames[0].startswith("Thread._bootstrap"):
            return "other threads (off the reactor)", next((f for f in frames if "(archive/" in f), frames[-1])
        return "(e) start-up / shutdown, main thread", frames[-1]
    ours = [f for f in frames if "(crawler/" in f or "(archive/" in f]
    archive = [f for f in frames if "(archive/" in f]
    if archive:
        return "(d) archive writes on the reactor", " > ".join(_name(f) for f in archive[:2])
    if "close_spider" in stack:
        return "(e) shutdown, on the reactor", frames[-1]
    if any(m in f for f in ours for m in MIDDLEWARES):
        inner = "" if _name(ours[0]) == _name(ours[-1]) else f" > {_name(ours[-1])}"
        return "(c) our middlewares / download handler", f"{ours[0]}{inner}"
    if ours:
        return "(b) our spider callbacks", f"{_name(ours[0])} > {ours[-1]}"
    scrapy = [f for f in frames if "(scrapy/" in f and "CrawlerProcess.start" not in f]
    # the event loop's own work (task steps, selector, transports) has no Scrapy frame below the reactor
    return "(a) Scrapy/Twisted/asyncio engine", scrapy[-1] if scrapy else f"event loop: {frames[-1]}"


def summarise(raw: Path, rate: int, top: int) -> None:
    groups, details = Counter(), defaultdict(Counter)
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        group, detail = classify(stack.split(";"))
        groups[group] += int(count)
        details[group][detail] += int(count)
    on_reactor = [g for g in groups if g[1] in "abcd" or g.endswith("on the reactor")]
    reactor = sum(groups[g] for g in on_reactor)
    print(f"reactor thread on CPU: {reactor / rate:.1f}s ({reactor} samples at {rate} Hz)")
    for group in sorted(groups):
        n = groups[group]
        share = f"{100 * n / reactor:.0f}% of the reactor thread" if group in on_reactor else "not the reactor"
        print(f"{group}: {n / rate:.1f}s, {share}")
        for detail, m in details[group].most_common(top):
            print(f"    {m / rate:6.2f}s  {detail}")


def summarise_writer(raw: Path, rate: int, top: int) -> None:
    """The writer's samples by function, inclusive (each function counted once per sample)."""
    inclusive, total = Counter(), 0
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        if "_serve (crawler/writer.py" not in stack:
            continue  # its reply and fsync threads wait, mostly
        total += int(count)
        for name in {f"{_name(f)} ({f.split(' (')[1].split(':')[0]})" for f in frames if " (" in f}:
            inclusive[name] += int(count)
    print(f"writer process, its main thread: {total / rate:.1f}s on CPU")
    for name, n in inclusive.most_common(top):
        print(f"    {n / rate:6.2f}s  {name}")


def record_writer(spy: str, args, command: list, raw: Path) -> None:
    """The crawl, with py-spy attached to its writer process as soon as that exists."""
    crawl = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    sampler = None
    while crawl.poll() is None and sampler is None:
        for pid in _descendants(crawl.pid):
            try:
                name = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                continue
            if name == "nianbao-writer":
                sampler = subprocess.Popen([spy, "record", "--rate", str(args.rate), "--format", "raw", "--output",
                                            str(raw), *(["--gil"] if args.gil else []), "--pid", str(pid)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                break
        time.sleep(0.02)
    if crawl.wait() != 0 or sampler is None or sampler.wait() != 0:
        raise SystemExit("the crawl failed, or its writer could not be sampled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=8, help="entries shown per group")
    parser.add_argument("--gil", action="store_true",
                        help="count only samples of the thread holding the GIL: what one process can do at most")
    parser.add_argument("--writer", action="store_true", help="sample the archive's writer process instead")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw samples in this file")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: pip install '.[bench]'")
    portal_dir = build(args.reports)

    from sampleportal.server import Portal

    with Portal(site=portal_dir / "site", routes=portal_dir / "routes.json") as portal, \
            tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "crawl.raw"
        crawl = [sys.executable, "-m", "nianbao.cli", "crawl", "--sites", str(portal_dir / "sites.yml"),
                 "--portal-url", portal.url, "--data", str(Path(tmp) / "archive"), "--no-extract",
                 "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR",
                 "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "CONCURRENT_REQUESTS=16",
                 *[arg for setting in args.set for arg in ("-s", setting)]]
        own, started = os.times(), time.perf_counter()
        if args.writer:
            record_writer(spy, args, crawl, raw)
        else:
            command = [spy, "record", "--rate", str(args.rate), "--format", "raw", "--output", str(raw),
                       *(["--gil"] if args.gil else []), "--", *crawl]
            with tempfile.TemporaryFile() as console:
                subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=console, check=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        elapsed, mine = time.perf_counter() - started, os.times()
        print(f"crawl of {args.reports} reports under py-spy: {elapsed:.1f}s wall; portal server (this process) CPU "
              f"{mine.user - own.user + mine.system - own.system:.1f}s")
        (summarise_writer if args.writer else summarise)(raw, args.rate, args.top)
        if args.raw:
            shutil.copyfile(raw, args.raw)


if __name__ == "__main__":
    main()
