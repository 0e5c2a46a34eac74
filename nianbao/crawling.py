"""One crawl run, in one Scrapy process or split over several (``nianbao crawl --processes N``).

A Scrapy crawl is one reactor on one core; on a portal that answers fast, that core is the limit. With
``--processes N`` the run's registry entries are dealt to N crawl processes, each its own Scrapy engine,
all writing through the run's one writer process (crawler/writer.py): one run record, one WARC file,
one fetch log. This process starts the run, waits for the parts, and finishes the run with their
stats added up; the commands after it (summary, coverage, gone quiet) read one run, as before.

Politeness is kept per host, not per process: a host is crawled from one process, so it sees what a
single crawl would ask of it. Only when there are fewer hosts than processes (one city's portal and its
departments' columns) are hosts shared: each host's entries are dealt over the k processes, and each
process gets 1/k of every host's budget: ``CONCURRENT_REQUESTS_PER_DOMAIN // k``, ``DOWNLOAD_DELAY × k``,
autothrottle's target / k. Hosts allowed one request at a time are never shared. ``CONCURRENT_REQUESTS``
and ``NIANBAO_MAX_REQUESTS`` are divided among the processes.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import queue
import signal
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


class CrawlPartFailed(RuntimeError):
    """A crawl process of the run ended without handing its stats back (an error, or it was killed)."""


def run_crawl(loaded: list, data: Path, settings: dict, command: str = "crawl", processes: int = 1) -> dict:
    """Run the real Scrapy engine over registry entries already loaded (``_registry``); returns the crawl's stats.

    Scrapy's log goes to DIR/logs/COMMAND-TIME-PID.log (one per process); the console gets warnings, and a
    live table per site when it is a terminal and the crawl runs in this process."""
    from . import progress

    settings = {"NIANBAO_DATA": str(data), "NIANBAO_SITE_IDS": [s.id for s in loaded], "NIANBAO_COMMAND": command,
                "LOG_FILE": str(progress.log_file(data, command)), **settings}
    parts = plan(loaded, processes, _settings(settings)) if processes > 1 else []
    if len(parts) > 1:
        return _crawl_in_parts(parts, data, settings, command)
    return _crawl(loaded, _settings(settings))


def _settings(overrides: dict):
    """The project's settings with a command's on top."""
    from scrapy.settings import Settings

    merged = Settings()
    merged.setmodule("crawler.settings", priority="project")
    merged.setdict(overrides, priority="cmdline")
    return merged


def _crawl(loaded: list, merged, joined=None, live: bool = True) -> dict:
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.columns import ColumnSpider

    from . import progress

    process = CrawlerProcess(merged)
    out = progress.console()
    handler = progress.console_warnings(merged.get("LOG_LEVEL"), out) if merged.get("LOG_FILE") else None
    crawler = process.create_crawler(ColumnSpider)
    # loaded once, here: the spider does not read the registry again
    process.crawl(crawler, sites=loaded, **({"joined_run": joined} if joined is not None else {}))
    try:
        if live and out.is_terminal:
            with progress.CrawlProgress(crawler, [s.id for s in loaded], out):
                process.start()
        else:
            process.start()
    finally:
        if handler is not None:
            logging.root.removeHandler(handler)
    return crawler.stats.get_stats()


# ---------------------------------------------------------------------- the split


@dataclass
class Part:
    """The registry entries one crawl process takes, and the settings that keep its hosts' budgets."""

    sites: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def _host(site) -> str:
    return site.hosts[0] if site.hosts else site.id


def plan(loaded: list, processes: int, settings) -> list[Part]:
    """How ``processes`` crawl processes share the registry entries without asking more of any host."""
    by_host: dict[str, list] = defaultdict(list)
    for site in loaded:
        by_host[_host(site)].append(site)
    per_domain = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
    if len(by_host) >= processes or per_domain < 2:
        count = min(processes, len(by_host))
        parts = [Part() for _ in range(count)]
        for host in sorted(by_host, key=lambda h: (-len(by_host[h]), h)):  # largest first, to the lightest part
            min(parts, key=lambda part: len(part.sites)).sites.extend(by_host[host])
        share = {}
    else:
        count = min(processes, per_domain, max(len(sites) for sites in by_host.values()))
        parts = [Part() for _ in range(count)]
        for sites in by_host.values():
            for n, site in enumerate(sites):
                parts[n % count].sites.append(site)
        share = {"CONCURRENT_REQUESTS_PER_DOMAIN": per_domain // count,
                 "DOWNLOAD_DELAY": settings.getfloat("DOWNLOAD_DELAY") * count,
                 "AUTOTHROTTLE_START_DELAY": settings.getfloat("AUTOTHROTTLE_START_DELAY") * count,
                 "AUTOTHROTTLE_TARGET_CONCURRENCY": settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY") / count}
    total = settings.getint("CONCURRENT_REQUESTS")
    requests = settings.getint("NIANBAO_MAX_REQUESTS")
    for part in parts:
        part.settings = {**share, "CONCURRENT_REQUESTS": max(1, total // len(parts)),
                         "NIANBAO_MAX_REQUESTS": math.ceil(requests / len(parts)) if requests else 0}
    return [part for part in parts if part.sites]


# ---------------------------------------------------------------------- the run, in parts


def _crawl_in_parts(parts: list[Part], data: Path, settings: dict, command: str) -> dict:
    from archive.store import Archive
    from crawler.extension import _start_run, run_arguments
    from crawler.writer import WriterProcess

    writer = WriterProcess(data, clients=len(parts) + 1)
    own = writer.clients[-1]
    context = multiprocessing.get_context("spawn")
    runs, results = context.Queue(), context.Queue()
    processes = _start_parts(context, parts, data, settings, command, writer.clients, runs, results)
    # the parts import Scrapy while the writer opens the archive and the run starts
    try:
        resume, run_id, spool = own.call(_start_run, *run_arguments(_settings(settings), _sites(parts)))
    except BaseException:
        for _ in processes:
            runs.put(None)  # no run: the parts end without crawling
        raise
    for _ in processes:
        runs.put((run_id, resume, spool))
    # the parts have process groups of their own, so a terminal's Ctrl-C reaches them once, through this process:
    # the first stops them gracefully, a second at once, as in a crawl of one process
    forward = {name: signal.signal(name, _forward_to(processes)) for name in (signal.SIGINT, signal.SIGTERM)}
    try:
        answers = _answers(processes, results)
    finally:
        for name, previous in forward.items():
            signal.signal(name, previous)
    failed = [f"part {n + 1}: {error}" for n, (stats, error) in sorted(answers.items()) if error]
    if failed:  # the run stays marked running, as after a kill: the next crawl resumes what it archived
        own.close()
        writer.stop()
        raise CrawlPartFailed(f"{'; '.join(failed)} (logs: {Path(data) / 'logs'}); run {run_id} is left to resume")
    stats = merge_stats([stats for stats, _ in answers.values()])
    own.call(Archive.finish_run, run_id, "stopped" if stats.get("nianbao/stopped") else "finished",
             {k: v for k, v in stats.items() if isinstance(v, (int, float, str))})
    own.close()
    writer.stop()
    return stats


def _sites(parts: list[Part]) -> list:
    return [site for part in parts for site in part.sites]


def _start_parts(context, parts: list[Part], data: Path, settings: dict, command: str, clients: list, runs,
                 results) -> list:
    from . import progress

    processes = []
    for n, part in enumerate(parts):
        overrides = {**settings, **part.settings, "LOG_FILE": str(progress.log_file(data, f"{command}-part{n + 1}"))}
        if settings.get("JOBDIR"):  # a nightly's resume state, one per part (the split is the same when resumed)
            overrides["JOBDIR"] = str(Path(settings["JOBDIR"]) / f"part{n + 1}of{len(parts)}")
        processes.append(context.Process(target=_crawl_part, name=f"nianbao-crawl-{n + 1}",
                                         args=(n, part.sites, overrides, clients[n], runs, results)))
    print(f"crawling {len(_sites(parts))} sites in {len(parts)} processes (logs: {Path(data) / 'logs'})",
          file=sys.stderr)
    for process in processes:
        process.start()
    return processes


def _forward_to(processes: list):
    def forward(signum, frame):
        for process in processes:
            if process.exitcode is None:
                os.kill(process.pid, signum)
    return forward


def _answers(processes: list, results) -> dict[int, tuple]:
    """Each part's (stats, error): what it handed back, or why it handed nothing back."""
    answers: dict[int, tuple] = {}
    while len(answers) < len(processes):
        try:
            n, stats, error = results.get(timeout=0.5)
            answers[n] = (stats, error)
        except queue.Empty:  # has a part died without a word?
            for n, process in enumerate(processes):
                if n not in answers and process.exitcode is not None and results.empty():
                    answers[n] = (None, f"ended with exit code {process.exitcode} and no stats")
    for process in processes:
        process.join()
    return answers


def _crawl_part(n: int, sites: list, overrides: dict, writer, runs, results) -> None:
    from crawler.extension import JoinedRun
    from crawler.spiders.columns import ColumnSpider  # noqa: F401 (imported while the run starts)
    from crawler.writer import _die_with_parent

    _die_with_parent()
    os.setpgid(0, 0)  # signals come through the run's process (_forward_to), not from the terminal's group
    run = runs.get()
    if run is None:
        return
    try:
        stats = _crawl(sites, _settings(overrides), joined=JoinedRun(*run, writer), live=False)
        results.put((n, stats, None))
    except BaseException as exc:
        results.put((n, None, f"{type(exc).__name__}: {exc}"))
        raise


_EARLIEST = {"start_time"}
_LARGEST = {"finish_time", "elapsed_time_seconds", "nianbao/stopped"}
_SAME = {"nianbao/run_id"}


def merge_stats(parts: list[dict]) -> dict:
    """One run's stats from its parts': counts add up; a part's own measures (memory, time, bounds) take the
    largest; a part's start the earliest; texts that differ (warnings, finish reasons) are all kept, one a line."""
    merged: dict = {}
    for stats in parts:
        for key, value in stats.items():
            if merged.get(key) is None:
                merged[key] = value
            elif value is None:
                continue
            elif key in _EARLIEST:
                merged[key] = min(merged[key], value)
            elif key in _LARGEST or key in _SAME or key.startswith(("memusage/", "nianbao/bound/")):
                merged[key] = max(merged[key], value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[key] += value
            elif value != merged[key] and isinstance(value, str):
                lines = merged[key].split("\n")
                merged[key] = "\n".join(lines + [line for line in value.split("\n") if line not in lines])
    return merged
