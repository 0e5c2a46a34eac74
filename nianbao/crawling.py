"""One crawl run, in one Scrapy process or split over several (``nianbao crawl --processes N``).

A Scrapy crawl is one reactor on one core; on a portal that answers fast, that core is the limit. With
``--processes N`` the run's registry entries are dealt to N crawl processes, each its own Scrapy engine,
all writing through the run's one writer process (crawler/writer.py): one run record, one WARC file,
one fetch log. This process starts the run, waits for the parts, and ends the run with their stats added
up, through the extension's own ``end_run`` (crawler/extension.py): summary per site, gone quiet, CDXJ,
status. One run, recorded as a crawl in one process records it.

Politeness is kept per host, not per process: entries that may fetch from a common registrable domain (a
portal's www. and bare names, a files. host, an allowed_hosts server) are crawled from one process, so a host
sees what a single crawl would ask of it. Only when there are fewer such groups than processes (one city's
portal and its departments' columns) are they shared: each group's entries are dealt over the k processes, and
each process gets 1/k of every host's budget: ``CONCURRENT_REQUESTS_PER_DOMAIN // k``, ``DOWNLOAD_DELAY`` and
autothrottle's delays × k, its target / k. Hosts allowed one request at a time are never shared.
``CONCURRENT_REQUESTS`` and ``NIANBAO_MAX_REQUESTS`` are divided among the processes.

A part that dies ends the run as a kill of a one-process crawl would: everything is killed, what was committed
stays, the run stays marked running and the next crawl resumes it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import multiprocessing
import os
import queue
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path


class CrawlPartFailed(RuntimeError):
    """A crawl process of the run ended without handing its stats back (an error, or it was killed)."""


def broad(sites: int, overrides: dict) -> bool:
    """Whether a registry of this many entries is crawled as a broad crawl (NIANBAO_BROAD_CRAWL_SITES)."""
    return sites >= _settings(overrides).getint("NIANBAO_BROAD_CRAWL_SITES")


def with_broad_crawl(sites: int, overrides: dict) -> dict:
    """The command's settings over the broad-crawl profile, when the registry is large enough for one: the
    settings Scrapy's "Broad Crawls" guide names for thousands of domains that bench/national_crawl.py measured
    helping (NIANBAO_BROAD_CRAWL_SETTINGS), and room in the downloader for every portal at once:
    CONCURRENT_REQUESTS = NIANBAO_BROAD_REQUESTS_PER_SITE per entry, up to NIANBAO_BROAD_MAX_REQUESTS. Scrapy counts
    a request waiting out its portal's delay as active, so 16 would keep 16 portals busy of 3,000. The run's
    request bound grows with the registry (NIANBAO_BROAD_RUN_REQUESTS_PER_SITE per entry)."""
    if not broad(sites, overrides):
        return overrides
    merged = _settings(overrides)
    profile = dict(merged.getdict("NIANBAO_BROAD_CRAWL_SETTINGS"))
    profile["CONCURRENT_REQUESTS"] = max(merged.getint("CONCURRENT_REQUESTS"), min(
        merged.getint("NIANBAO_BROAD_MAX_REQUESTS"), sites * merged.getint("NIANBAO_BROAD_REQUESTS_PER_SITE")))
    if merged.getint("NIANBAO_MAX_REQUESTS"):  # 0, no bound, stays 0
        profile["NIANBAO_MAX_REQUESTS"] = max(merged.getint("NIANBAO_MAX_REQUESTS"),
                                              sites * merged.getint("NIANBAO_BROAD_RUN_REQUESTS_PER_SITE"))
    return {**profile, **overrides}


def default_processes(sites: int, overrides: dict) -> int:
    """One crawl process per core for a broad crawl, else one (``--processes`` not given)."""
    return (os.cpu_count() or 1) if broad(sites, overrides) else 1


def run_crawl(loaded: list, data: Path, settings: dict, command: str = "crawl", processes: int | None = None) -> dict:
    """Run the real Scrapy engine over registry entries already loaded (``_registry``); returns the crawl's stats.
    A large registry is a broad crawl (``with_broad_crawl``), by default in one process per core.

    Scrapy's log goes to DIR/logs/COMMAND-TIME-PID.log (one per process); the console gets warnings, and a
    live table per site when it is a terminal and the crawl runs in this process."""
    from . import progress

    processes = processes or default_processes(len(loaded), settings)
    settings = with_broad_crawl(len(loaded), settings)
    settings = {"NIANBAO_DATA": str(data), "NIANBAO_SITE_IDS": [s.id for s in loaded], "NIANBAO_COMMAND": command,
                "LOG_FILE": str(progress.log_file(data, command)), **settings}
    if processes == 1:
        from archive.store import Archive
        from crawler.writer import open_writer

        # the schema applied here first, so that the writer and the crawl's reader never race to apply it; the
        # connection stays open until the crawl ends, as the reader's did when it came first
        first = Archive(data)
        try:
            # the writer process starts its interpreter and opens the archive while this one imports Scrapy
            return _crawl(loaded, _settings(settings), writer=open_writer(data, wait=False))
        finally:
            first.db.conn.close()
    parts = plan(loaded, processes, _settings(settings))
    if len(parts) > 1:
        return _crawl_in_parts(loaded, parts, data, settings, command)
    return _crawl(loaded, _settings(settings))


def _settings(overrides: dict):
    """The project's settings with a command's on top."""
    from scrapy.settings import Settings

    merged = Settings()
    merged.setmodule("crawler.settings", priority="project")
    merged.setdict(overrides, priority="cmdline")
    return merged


def _crawl(loaded: list, merged, joined=None, live: bool = True, writer=None) -> dict:
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.columns import ColumnSpider

    from . import progress

    process = CrawlerProcess(merged)
    progress.quiet_logging_on_full_disk()
    out = progress.console()
    handler = progress.console_warnings(merged.get("LOG_LEVEL"), out) if merged.get("LOG_FILE") else None
    crawler = process.create_crawler(ColumnSpider)
    # loaded once, here: the spider does not read the registry again
    process.crawl(crawler, sites=loaded, joined_run=joined, started_writer=writer)
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


def _domains(site) -> set[str]:
    from crawler.hosts import registrable_domain

    return {registrable_domain(host) for host in (*site.hosts, *site.allowed_hosts)} or {site.id}


def by_host(loaded: list) -> list[list]:
    """Registry entries that may fetch from a common registrable domain (its www. and bare names, a files.
    host, an ``allowed_hosts`` server), together: Scrapy keeps one host's budget only within one process."""
    owner: dict[str, int] = {}  # registrable domain -> index of the group that fetches from it
    groups: list[list] = []
    domains: list[set[str]] = []  # each group's domains, so a merge re-points only the merged group's
    for site in loaded:
        own = _domains(site)
        merged, reached = [site], set(own)
        for i in sorted({owner[d] for d in own if d in owner}):
            merged.extend(groups[i])
            reached |= domains[i]
            groups[i], domains[i] = [], set()
        groups.append(merged)
        domains.append(reached)
        for domain in reached:
            owner[domain] = len(groups) - 1
    return [group for group in groups if group]


def plan(loaded: list, processes: int, settings) -> list[Part]:
    """How ``processes`` crawl processes share the registry entries without asking more of any host."""
    hosts = by_host(loaded)
    per_domain = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
    if len(hosts) >= processes or per_domain < 2:
        count = min(processes, len(hosts))
        parts = [Part() for _ in range(count)]
        for sites in sorted(hosts, key=len, reverse=True):  # largest first, to the lightest part
            min(parts, key=lambda part: len(part.sites)).sites.extend(sites)
        share = {}
    else:
        count = min(processes, per_domain, max(len(sites) for sites in hosts))
        parts = [Part() for _ in range(count)]
        for sites in hosts:
            for n, site in enumerate(sites):
                parts[n % count].sites.append(site)
        share = {"CONCURRENT_REQUESTS_PER_DOMAIN": per_domain // count,
                 "DOWNLOAD_DELAY": settings.getfloat("DOWNLOAD_DELAY") * count,
                 "AUTOTHROTTLE_START_DELAY": settings.getfloat("AUTOTHROTTLE_START_DELAY") * count,
                 "AUTOTHROTTLE_MAX_DELAY": settings.getfloat("AUTOTHROTTLE_MAX_DELAY") * count,
                 "AUTOTHROTTLE_TARGET_CONCURRENCY": settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY") / count}
    total = settings.getint("CONCURRENT_REQUESTS")
    requests = settings.getint("NIANBAO_MAX_REQUESTS")
    for part in parts:
        part.settings = {**share, "CONCURRENT_REQUESTS": max(1, total // len(parts)),
                         "NIANBAO_MAX_REQUESTS": math.ceil(requests / len(parts)) if requests else 0}
    return [part for part in parts if part.sites]


# ---------------------------------------------------------------------- the run, in parts


def _crawl_in_parts(loaded: list, parts: list[Part], data: Path, settings: dict, command: str) -> dict:
    from archive.store import StorageFailed
    from crawler.extension import _start_run, end_run, run_arguments
    from crawler.writer import WriterProcess

    writer = WriterProcess(data, clients=len(parts) + 1)
    own = writer.clients[-1]
    context = multiprocessing.get_context("spawn")
    runs, results = context.Queue(), context.Queue()
    for channel in (runs, results):  # a part that died unread must not keep this process from exiting
        channel.cancel_join_thread()
    processes = _parts(context, parts, data, settings, command, writer.clients, runs, results)
    # the parts have process groups of their own, so a terminal's Ctrl-C reaches them once, through this process:
    # the first stops them gracefully, a second at once, as in a crawl of one process
    forward = {name: signal.signal(name, _forward_to(processes)) for name in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        # the parts import Scrapy while the writer opens the archive and the run starts
        resume, run_id, spool = own.call(_start_run, *run_arguments(_settings(settings), loaded))
        for _ in processes:
            runs.put((run_id, resume, spool))
        answers = _answers(processes, results)
    except BaseException:
        _kill(processes, writer)
        raise
    finally:
        for name, previous in forward.items():
            signal.signal(name, previous)
    failed = [f"part {n + 1}: {error}" for n, (stats, error) in sorted(answers.items()) if error]
    if failed:
        # as a kill of a one-process crawl: the writer may be waiting on the dead part's half-sent work, so
        # nothing waits on it; what is committed stays (files before rows), the run stays marked running and
        # the next crawl resumes it
        _kill(processes, writer)
        raise CrawlPartFailed(f"{'; '.join(failed)} (logs: {Path(data) / 'logs'}); run {run_id} is left to resume")
    stats = merge_stats([stats for stats, _ in answers.values()])
    try:  # after a storage failure the writer has marked the run failed and writes nothing more
        if not stats.get("nianbao/storage_failed"):
            # each part's extension said whether it was stopped (a part closed at its bound was not: it finished)
            stats.update(own.call(end_run, run_id, "stopped" if stats.get("nianbao/stopped") else "finished",
                                  {k: v for k, v in stats.items() if isinstance(v, (int, float, str))},
                                  [site.id for site in loaded]))
    except StorageFailed as exc:
        stats["nianbao/storage_failed"] = str(exc)
    own.close()
    writer.stop()
    return stats


def _kill(processes: list, writer) -> None:
    for process in processes:
        if process.pid is not None:
            process.kill()
            process.join()
    writer.kill()


def _fingerprint(part: Part) -> str:
    return hashlib.sha256("\n".join(sorted(site.id for site in part.sites)).encode()).hexdigest()[:8]


def _sites(parts: list[Part]) -> list:
    return [site for part in parts for site in part.sites]


def _parts(context, parts: list[Part], data: Path, settings: dict, command: str, clients: list, runs,
           results) -> list:
    from . import progress

    processes = []
    for n, part in enumerate(parts):
        overrides = {**settings, **part.settings, "LOG_FILE": str(progress.log_file(data, f"{command}-part{n + 1}"))}
        if settings.get("JOBDIR"):  # a nightly's resume state, one per part, named by its sites: a split that
            # changed (another registry, another N) starts its queues afresh instead of replaying another's hosts
            overrides["JOBDIR"] = str(Path(settings["JOBDIR"]) / f"part{n + 1}of{len(parts)}-{_fingerprint(part)}")
        processes.append(context.Process(target=_crawl_part, name=f"nianbao-crawl-{n + 1}",
                                         args=(n, os.getpid(), part.sites, overrides, clients[n], runs, results)))
    print(f"crawling {len(_sites(parts))} sites in {len(parts)} processes (logs: {Path(data) / 'logs'})",
          file=sys.stderr)
    return processes


def _forward_to(processes: list):
    def forward(signum, frame):
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                try:
                    os.kill(process.pid, signum)
                except ProcessLookupError:  # it ended meanwhile
                    pass
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


def _crawl_part(n: int, parent: int, sites: list, overrides: dict, writer, runs, results) -> None:
    from crawler.writer import _die_with_parent

    os.setpgid(0, 0)  # signals come through the run's process (_forward_to), not from the terminal's group
    _die_with_parent()
    if os.getppid() != parent:  # it died before the line above could take effect
        return
    from crawler.extension import JoinedRun
    from crawler.spiders.columns import ColumnSpider  # noqa: F401 (imported while the run starts)

    run = runs.get()
    try:
        stats = _crawl(sites, _settings(overrides), joined=JoinedRun(*run, writer), live=False)
        results.put((n, stats, None))
    except BaseException as exc:
        results.put((n, None, f"{type(exc).__name__}: {exc}"))
        raise


_EARLIEST = {"start_time"}
_LARGEST = {"finish_time", "elapsed_time_seconds", "nianbao/stopped", "nianbao/run_id"}  # the run id: one for all


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
            elif key in _LARGEST or key.startswith(("memusage/", "nianbao/bound/")):
                merged[key] = max(merged[key], value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[key] += value
            elif value != merged[key] and isinstance(value, str):
                lines = merged[key].split("\n")
                merged[key] = "\n".join(lines + [line for line in value.split("\n") if line not in lines])
    return merged
