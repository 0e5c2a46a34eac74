"""The ``nianbao`` command: portal, crawl, discover, sites, extract, reextract, export, serve, demo."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click

from .crawling import CrawlPartFailed, run_crawl

# the sample portal is its own top-level package (sampleportal/), beside the runtime ones
SAMPLE = Path(__file__).resolve().parents[1] / "sampleportal"
SAMPLE_SITES = SAMPLE / "sites.yml"
SAMPLE_PORTALS = SAMPLE / "portals.yml"
PORTAL_RESOLVER = "sampleportal.resolver.PortalResolver"

EXIT_UNREADABLE = 2  # also click's code for bad usage and a bad registry
EXIT_NOTHING_FOUND = 3
EXIT_GONE_QUIET = 4
EXIT_FAILURE_RATE = 5
EXIT_DAMAGED = 6  # the archive's database is damaged: one line, never a traceback (any command)
EXIT_STORAGE = 7  # the archive's storage failed (disk full …): one line, the run marked failed (any command)
EXIT_BUSY = 75  # EX_TEMPFAIL: another writer holds the archive; a scheduler may try again later

_CRAWL_EXITS = """
  0   the crawl ran and found reports
  1   an unexpected error (the traceback says where; the log file under DIR/logs/ has the crawl), or a crawl
      process of a --processes run died (one line names it; the run is left to resume)
  2   bad usage or a bad registry (one line names the file, the entry and the problem)
  3   the crawl found no report at all
  4   a site that yielded reports in an earlier run yielded none this time, a site whose columns all
      failed (a list page script that could not be read, list pages that never answered), or a
      portal: site whose discovery found no 年报 column or was blocked
"""
_DAMAGED_EXIT = """  6   the archive's database DIR/nianbao.db is damaged (one line names the damage; `nianbao verify` lists it);
      nothing was changed
  7   the archive's storage failed (disk full, quota, read-only or failing disk): one line says so, the run
      stopped there and is marked failed, nothing half-written is referenced; free space and run it again
"""
_BUSY_EXIT = _DAMAGED_EXIT + """  75  another writer (crawl, nightly, import, reextract, merge) holds the archive's lock DIR/writer.lock;
      nothing was done: try again later
"""
CRAWL_EPILOG = "\b\nExit codes:" + _CRAWL_EXITS + _BUSY_EXIT
NIGHTLY_EPILOG = ("\b\nExit codes:" + _CRAWL_EXITS
                  + "  5   more requests than --max-failure-rate failed for good\n" + _BUSY_EXIT)


@contextmanager
def _writing(data: Path, command: str):
    """Hold the archive's writer lock: one writer per archive; a second one exits 75 at once."""
    from archive.store import ArchiveBusy, check_intact, writer_lock

    try:
        with writer_lock(data, command):
            check_intact(data)  # a damaged database is said in one line before anything is written to it
            yield
    except ArchiveBusy as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BUSY)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Main(click.Group):
    """A registry that cannot be used ends any command with one line naming file, entry and
    problem, and exit code 2: never a traceback."""

    def invoke(self, ctx):
        from crawler.sites import RegistryError

        try:
            return super().invoke(ctx)
        except RegistryError as exc:
            _registry_errors(exc, "bad registry: ")
            sys.exit(2)
        except CrawlPartFailed as exc:
            click.echo(f"error: a crawl process of the run failed: {exc}", err=True)
            sys.exit(1)
        except Exception as exc:
            from archive.store import ArchiveDamaged, is_damage, is_storage_failure

            if is_storage_failure(exc):
                self._storage_failed(exc)
            if not is_damage(exc):
                raise
            line = str(exc) if isinstance(exc, ArchiveDamaged) else (
                f"the archive's database is damaged ({exc}); `nianbao verify --data DIR` lists the damage")
            click.echo(f"error: {line}", err=True)
            sys.exit(EXIT_DAMAGED)

    def _storage_failed(self, exc: Exception) -> None:
        from archive.store import storage_failure_line

        click.echo(f"error: {storage_failure_line(exc)}", err=True)
        sys.exit(EXIT_STORAGE)


@click.group(cls=_Main, epilog="\b\nExit codes of every command that opens an archive:\n" + _DAMAGED_EXIT)
@click.version_option(package_name="nianbao")
def main():
    """nianbao: the open archive of China's 政府信息公开工作年度报告."""


@main.command()
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--flaky", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of requests that fail (500, timeout, connection reset, truncated body).")
@click.option("--seed", default=0, show_default=True, help="Seed of the flaky mode's draws.")
def portal(port, flaky, seed):
    """Serve the sample portal on 127.0.0.1."""
    from sampleportal.server import Portal

    server = Portal(port=port, flaky=flaky, seed=seed)
    click.echo(f"sample portal: {server.url}/  (registry: {SAMPLE_SITES})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def _registry_errors(exc, prefix: str = "") -> None:
    """A registry's refusals, one line each (a portals CSV names every bad row, not only the first)."""
    for line in str(exc).splitlines():
        click.echo(f"error: {prefix}{line}", err=True)


def _portal_settings(portal_url) -> dict:
    """A registry read with the sample portal's URL names that portal's hosts (``www.nianbao-sz.onion`` and its
    department subdomains): they resolve to 127.0.0.1 through its resolver, and through no DNS."""
    return {"TWISTED_DNS_RESOLVER": PORTAL_RESOLVER} if portal_url else {}


def _registry(sites, portals, portal_url, region=None, shard=None, allow_any_host=False) -> list:
    """The registry a command works on; a bad file prints one line per bad entry naming file and entry, and
    exits 2."""
    from crawler import sites as registry

    if not sites and not portals:
        raise click.UsageError("give --sites FILE (YAML) or --portals FILE (CSV of portal roots), or both")
    try:
        selected = registry.select(list(sites), portals=portals, portal=portal_url, region=region, shard=shard,
                                   allow_any_host=allow_any_host)
    except registry.RegistryError as exc:
        _registry_errors(exc)
        sys.exit(2)
    if region is not None and not selected:
        click.echo(f"error: no registry entry lies in --region {region}", err=True)
        sys.exit(2)
    return selected


def _discovery_lines(sites: dict) -> list[str]:
    """Per portal site: what discovery made of it. Sites whose walk found nothing are problems (exit 4)."""
    lines, problems = [], []
    for site, counts in sorted(sites.items()):
        line = counts.get("discovery")
        if not isinstance(line, str):
            continue
        lines.append(f"{site}: {line}")
        if counts.get("discovery_outcome") in ("none", "blocked") or (
                counts.get("discovery_outcome") == "capped" and not counts.get("columns_found")):
            problems.append(site)
    for line in lines:
        click.echo(line, err=True)
    return problems


_REGISTRY_OPTIONS = [
    click.option("--sites", "sites", multiple=True, type=click.Path(exists=True),
                 help="Registry YAML (repeatable): start_urls columns and/or portal: roots."),
    click.option("--portals", type=click.Path(exists=True, dir_okay=False),
                 help="CSV of portal roots (format of ../shared/registry/portals.csv): one portal: site per row."),
    click.option("--region", help="Only this part of the country: 福建省/泉州市 (leading region parts) or an adcode "
                                  "prefix such as 3505; an empty or '/' region is refused."),
    click.option("--allow-any-host", is_flag=True,
                 help="Take --portals rows on private, loopback or link-local addresses or off gov.cn (a local test "
                      "portal); refused otherwise."),
]


def registry_options(command):
    for option in reversed(_REGISTRY_OPTIONS):
        command = option(command)
    return command


def _parse_settings(pairs) -> dict:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="-s")
        name, value = pair.split("=", 1)
        out[name.strip()] = value
    return out


def _extract_stage(data: Path, all_versions: bool = False, workers: int | None = None,
                   retry_failed: bool = False, settings: dict | None = None) -> dict:
    """Extraction after a command: ``workers``, else NIANBAO_EXTRACT_WORKERS from the command's ``-s`` pairs, the
    environment or its default (archive/settings.py)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from archive.extraction import configured_workers, extract_pending
    from archive.store import Archive

    archive = Archive(data)  # this process's one Archive while it extracts; closed below
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        def factory(total):
            task = progress.add_task("extracting", total=total, rate="")

            def advance():
                progress.advance(task)
                speed = progress.tasks[task].speed
                progress.update(task, rate=f"{speed:.1f} docs/s" if speed else "")
            return advance

        stats = extract_pending(archive, all_versions=all_versions, workers=workers or configured_workers(settings),
                                progress_factory=factory, retry_failed=retry_failed)
    archive.build_search()
    archive.checkpoint()
    partial = archive.partial_reports_by_site()
    archive.db.conn.close()
    return {"extracted": stats.ok, "partial": stats.partial, "failed": stats.failed, "failures": stats.failures,
            "partial_reports_by_site": partial}


# a table a person reads: past this many sites, only those that need a look are rows (the JSON has every site)
SITES_IN_TABLE = 40


def _print_sites(sites: dict) -> None:
    from rich.table import Table

    from .progress import console
    from .summary import SITE_COUNTS, needs_a_look

    rows = sorted(sites.items())
    caption = None
    if len(rows) > SITES_IN_TABLE:
        rows = [(site, counts) for site, counts in rows if needs_a_look(counts)]
        caption = (f"{len(rows)} of {len(sites)} sites: those that found no report or met a failure, a block or "
                   "a short column; every site is in the JSON summary")
    table = Table(title="crawl summary per site", caption=caption)
    table.add_column("site", no_wrap=True)
    shown = (*SITE_COUNTS[:11], "coverage", "partial_reports")
    for name in shown:
        table.add_column(name.replace("_", " "), justify="right")
    for site, counts in rows:
        table.add_row(site, *(str(counts.get(n, "")) for n in shown))
    console().print(table)


def _stop_if_storage_failed(data: Path, stats: dict) -> None:
    """A crawl whose storage failed stops here: one line, exit 7 (the writer marked the run failed)."""
    from archive.store import storage_failure_line

    if stats.get("nianbao/storage_failed"):
        click.echo(f"error: {storage_failure_line(stats['nianbao/storage_failed'], data, run=True)}", err=True)
        sys.exit(EXIT_STORAGE)


def _summary(stats: dict, extraction: dict) -> dict:
    """What the run recorded (crawler/extension.py's end_run put it in the stats), with the extraction after it."""
    from .summary import crawl_summary

    return crawl_summary(stats, extraction, stats.get("nianbao/reports_in_archive", 0),
                         extraction.get("partial_reports_by_site"))


def _quiet_sites(stats: dict) -> list[str]:
    return [site for site in str(stats.get("nianbao/gone_quiet") or "").split("\n") if site]


def _problems_exit(sites: dict, quiet: list[str], nothing_found: bool) -> None:
    """Every problem of the run, one line each, then the exit code of the first: 4 for a portal whose discovery
    found no column or a site whose columns all failed, 3 for a crawl that found no report, 4 for sites gone
    quiet."""
    from .summary import all_columns_failed

    problems = []
    undiscovered = _discovery_lines(sites)
    if undiscovered:
        problems.append((EXIT_GONE_QUIET, f"discovery found no 年报 column on: {', '.join(undiscovered)}"))
    failing = all_columns_failed(sites)
    if failing:  # each column a page script that could not be read, or list pages that never answered
        problems.append((EXIT_GONE_QUIET, f"every column failed on: {', '.join(failing)}"))
    if nothing_found:
        problems.append((EXIT_NOTHING_FOUND, "the crawl found no report at all"))
    if quiet:
        problems.append((EXIT_GONE_QUIET, f"these sites yielded reports before and none now: {', '.join(quiet)}"))
    for _, line in problems:
        click.echo(f"error: {line}", err=True)
    if problems:
        sys.exit(problems[0][0])


@main.command(epilog=CRAWL_EPILOG)
@registry_options
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True, help="Archive directory.")
@click.option("-s", "settings", multiple=True, help="Scrapy setting NAME=VALUE (repeatable).")
@click.option("--portal-url", help="The sample portal's base URL, substituted for ${PORTAL} (its port for "
                                   "${PORTAL_PORT}) in the registry; the portal's host names then resolve to 127.0.0.1.")
@click.option("--no-extract", is_flag=True, help="Only fetch and archive; run extraction later.")
@click.option("--shard", help="I/N: crawl only the registry entries whose host hashes to shard I of N.")
@click.option("--rediscover", is_flag=True, help="Walk every portal: entry's navigation again now, instead of "
                                                 "crawling its known columns (default: every NIANBAO_REDISCOVER_DAYS).")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Scrapy processes sharing the run (one core each), one writer; a host is crawled from one "
                   "process, or its per-host budget divided among those that share it.  [default: one per core "
                   "for a broad crawl (NIANBAO_BROAD_CRAWL_SITES entries or more), else 1]")
def crawl(sites, portals, region, allow_any_host, data, settings, portal_url, no_extract, shard, rediscover,
          processes):
    """Crawl the registry's columns into DATA (database: DATA/nianbao.db), then extract.

    List pages are always asked for and new items followed: conditionally where DATA keeps the page (a 304 is read
    from that copy), in full on their column's night of the rotation. A report DATA already holds is asked
    for again (conditionally) only on its night of a rotation, once every NIANBAO_RECHECK_DAYS days (30;
    -s NIANBAO_RECHECK_DAYS=1: every run), or at once when its list title changed or its last visit failed or was
    cut short; the others are counted `known` per site.
    """
    from .summary import record_partial

    loaded = _registry(sites, portals, portal_url, region, shard, allow_any_host)
    site_ids = [s.id for s in loaded]
    overrides = {**_portal_settings(portal_url), **({"NIANBAO_REDISCOVER": True} if rediscover else {}),
                 **_parse_settings(settings)}
    with _writing(data, "crawl"):
        stats = run_crawl(loaded, data, overrides, processes=processes)  # the extension records the run
        _stop_if_storage_failed(data, stats)
        extraction = {} if no_extract else _extract_stage(data, settings=overrides)
        if extraction:  # the run's record gains the reports its extraction read only in part
            record_partial(data, stats.get("nianbao/run_id"), extraction["partial_reports_by_site"])
    summary = _summary(stats, extraction)
    quiet = _quiet_sites(stats)
    _print_sites(summary["sites"])
    for warning in summary["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
    _problems_exit(summary["sites"], quiet, summary["reports_found"] == 0 and bool(site_ids))


@main.command(epilog=NIGHTLY_EPILOG)
@registry_options
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True, help="Archive directory.")
@click.option("-s", "settings", multiple=True, help="Scrapy setting NAME=VALUE (repeatable).")
@click.option("--portal-url", help="The sample portal's base URL, substituted for ${PORTAL} (its port for "
                                   "${PORTAL_PORT}) in the registry; the portal's host names then resolve to 127.0.0.1.")
@click.option("--max-failure-rate", default=0.05, show_default=True, type=click.FloatRange(0, 1),
              help="Exit 5 when more requests than this share fail for good.")
@click.option("--rediscover", is_flag=True, help="Walk every portal: entry's navigation tonight.")
@click.option("--rediscover-days", type=click.FloatRange(min=0), default=None,
              help="Walk a portal again when its last walk is this old (default: NIANBAO_REDISCOVER_DAYS, 30).")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Scrapy processes sharing the run, as `nianbao crawl --processes`.")
def nightly(sites, portals, region, allow_any_host, data, settings, portal_url, max_failure_rate, rediscover,
            rediscover_days, processes):
    """The scheduled run: lock, resumable incremental crawl, extraction, search index, atomic publish.

    Portal sites crawl their known columns; their navigation is walked again on its own schedule. Every list
    page is asked for (conditionally, but in full on its column's night of the rotation) and new items followed; a known report is re-checked (conditionally) once
    every NIANBAO_RECHECK_DAYS days (30) on its night of the rotation, or at once when its list title changed or
    its last visit failed or was cut short; the others are counted `known` per site (-s NIANBAO_RECHECK_DAYS=1:
    every known report every night).
    """
    from . import nightly as night
    from .summary import per_site, record_partial

    try:
        with night.exclusive(data):
            loaded = _registry(sites, portals, portal_url, region, allow_any_host=allow_any_host)
            site_ids = [s.id for s in loaded]
            resumed = (data / night.JOBDIR_NAME).exists()
            if resumed:
                night.repair_jobdir(data)  # the queues of a run killed before it could close them start afresh
            overrides = {**_portal_settings(portal_url), "JOBDIR": str(data / night.JOBDIR_NAME), "RETRY_TIMES": 3,
                         **night.discovery_settings(rediscover, rediscover_days), **_parse_settings(settings)}
            stats = run_crawl(loaded, data, overrides, command="nightly", processes=processes)
            _stop_if_storage_failed(data, stats)
            night.clear_jobdir(data, stats)
            extraction = _extract_stage(data, settings=overrides)
            # what the extension recorded, with the reports its extraction read only in part
            summary = record_partial(data, stats["nianbao/run_id"], extraction["partial_reports_by_site"])
            silent = _quiet_sites(stats)
            # a site whose pages failed is unreachable tonight (it counts in the failure rate); one that
            # answered and listed nothing has moved or emptied its column, which needs a person
            unreachable = [s for s in silent if summary["sites"].get(s, {}).get("failed")]
            quiet = [s for s in silent if s not in unreachable]
            night.publish(data)
    except night.AlreadyRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BUSY)
    _print_sites(summary["sites"])
    rate = night.failure_rate(stats)
    report = {**summary["total"], "resumed": resumed, "requests": stats.get("downloader/request_count", 0),
              "failed_for_good": stats.get("retry/max_reached", 0), "failure_rate": round(rate, 4),
              "quiet_sites": quiet, "unreachable_sites": unreachable, "extracted": extraction["extracted"], "extraction_failed": extraction["failed"],
              "bytes": stats.get("downloader/response_bytes", 0)}
    click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    _problems_exit(per_site(stats), quiet, stats.get("nianbao/reports_found", 0) == 0 and bool(site_ids))
    if rate > max_failure_rate:
        click.echo(f"error: {rate:.1%} of requests failed for good (threshold {max_failure_rate:.1%})", err=True)
        sys.exit(EXIT_FAILURE_RATE)


@main.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True, help="The merged archive.")
@click.argument("shards", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
def merge(data, shards):
    """Fold shard archives (one per Scrapyd node) into one published archive."""
    from archive.merge import MergeRefused, shard_dirs
    from archive.merge import merge as merge_shard
    from archive.store import Archive
    from archive.warc import write_cdxj

    try:
        checked = shard_dirs(shards)
    except (FileNotFoundError, MergeRefused) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1 if isinstance(exc, MergeRefused) else EXIT_UNREADABLE)
    with ExitStack() as held:
        for archive_dir in (data, *checked):  # a shard still being crawled into is not read half-written
            held.enter_context(_writing(archive_dir, "merge"))
        target = Archive(data)
        results = [merge_shard(target, shard) for shard in checked]
        extraction = _extract_stage(data)
        write_cdxj(data / "warcs")
    click.echo(json.dumps({"shards": results, **{k: v for k, v in extraction.items() if k != "failures"}},
                          ensure_ascii=False, indent=1))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def extract(file):
    """Print the canonical JSON record of one local file (read in a worker under the crawl's time and memory
    limits; exit 2 with the reason when it cannot be read)."""
    from archive.extraction import extract_files

    [(record, reason)] = extract_files([(file.name, file, file.resolve().as_uri())], workers=1)
    if record is None:
        click.echo(f"error: {file}: {reason}", err=True)
        sys.exit(EXIT_UNREADABLE)
    click.echo(json.dumps(record, ensure_ascii=False, indent=1))


@main.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Extraction workers (default: NIANBAO_EXTRACT_WORKERS, else the number of cores).")
@click.option("--all", "all_versions", is_flag=True,
              help="Read every payload again, even those this parser version already read.")
def reextract(data, workers, all_versions):
    """Re-run extraction over the archived payloads, offline, with a progress bar and an ETA.

    Reads every version this parser version has not read, failed on or read only in part (partial: rows of
    its template left out); a payload already read with the same inputs (same sha256 and hints, any site) is copied, never read twice. --all reads everything."""
    with _writing(data, "reextract"):
        result = _extract_stage(data, all_versions=all_versions, workers=workers, retry_failed=True)
    click.echo(json.dumps(result, ensure_ascii=False, indent=1))


@main.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
def verify(data):
    """Check the database (SQLite's PRAGMA integrity_check), re-hash every blob and WARC payload, and look for
    anything in the archive that is not a regular file; exit 1 and list them if any problem is found (a damaged
    database first, named in the last line), 2 if DATA is not an archive at all."""
    from archive.fixity import is_archive, verify_archive
    from archive.store import DB_NAME, integrity_problems

    database = data / DB_NAME
    damaged = database.is_file() and not database.is_symlink() and integrity_problems(data, quick=True, limit=1)
    if not is_archive(data) and not damaged:
        click.echo(f"error: {data} is not a nianbao archive (no {database} with the archive's tables)", err=True)
        sys.exit(EXIT_UNREADABLE)
    result = verify_archive(data)
    click.echo(json.dumps(result, ensure_ascii=False, indent=1))
    if result["problems"]:
        damage = [p["problem"] for p in result["problems"] if p["kind"] == "database"]
        named = f": the database {database} is damaged ({'; '.join(damage[:2])})" if damage else ""
        click.echo(f"error: {len(result['problems'])} fixity problem(s){named}", err=True)
        sys.exit(1)


@main.command(name="import")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_files(data, files):
    """Add reports a researcher already holds (PDF, Word, HTML files) as local documents; a file that is not an
    annual report (a notice, 解读, 图解 …) is refused."""
    from archive.extraction import extract_files
    from archive.store import Archive

    with _writing(data, "import"):
        archive = Archive(data)
        refused = 0
        # read in workers under the crawl's limits: a hostile file becomes an error line, not a hung import
        results = extract_files([(path.name, path, None) for path in files])
        for path, (record, reason) in zip(files, results):
            if record is None:
                click.echo(f"error: {path}: {reason}", err=True)
                refused += 1
                continue
            if record.get("verdict", "report") != "report":
                click.echo(f"error: {path}: not an annual report ({record['verdict']}); not imported", err=True)
                refused += 1
                continue
            if not (record.get("agency") and record.get("year")):
                click.echo(f"error: {path}: no agency and year in the report's title; not imported", err=True)
                refused += 1
                continue
            title = record["title"] or path.name  # the name its holder gave it, never an empty title
            data_bytes = path.read_bytes()
            report_id = archive.ensure_report(record["agency"], record["year"], title,
                                              sha256=hashlib.sha256(data_bytes).hexdigest())
            _, new = archive.store_payload(report_id=report_id, url=path.resolve().as_uri(), role="local",
                                           data=data_bytes, fmt=record["source"]["format"], title=title)
            click.echo(f"{path}: {record['agency']} {record['year']} ({'new version' if new else 'unchanged'})")
        result = _extract_stage(data)
    click.echo(json.dumps(result, ensure_ascii=False, indent=1))
    sys.exit(EXIT_UNREADABLE if refused else 0)


@main.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
def export(data, fmt):
    """Write one record per report (its latest version) to stdout."""
    from archive.export import write_csv, write_jsonl
    from archive.store import Archive, check_intact

    check_intact(data)  # one line, before a line of output, rather than a stream that breaks off
    archive = Archive(data)
    try:
        (write_csv if fmt == "csv" else write_jsonl)(archive, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader has what it wanted (`nianbao export | head`); Python must not complain while exiting
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


@main.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--port", default=8001, show_default=True)
def serve(data, port):
    """Serve the archive with Datasette on 127.0.0.1 (read-only). This process becomes Datasette (exec):
    stopping it stops the server. Set NIANBAO_PUBLIC_URL to the public address behind a proxy (warned
    when unset)."""
    from archive.serve import announce_address, datasette_command, public_url_warning
    from archive.store import Archive

    warning = public_url_warning(port)
    if warning:
        click.echo(warning, err=True)
    announce_address(port)  # links made without a request (CSV, SQL functions)
    published = data / "published" / "nianbao.db"
    if published.exists():  # what the last nightly run published, swapped in whole
        _become(datasette_command(published, port))
    with _writing(data, "serve (search index)"):
        archive = Archive(data)
        archive.build_search()
        archive.checkpoint()
        archive.db.conn.close()
    _become(datasette_command(archive.path, port))


def _become(command: list[str]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


DEMO_PORTAL = "demo-portal.json"  # in DATA: the address the archive's sample portal had, kept for the next demo
DEMO_DELAY = 0.25  # seconds between two requests to the department portal's subdomains, in the demo


def demo_settings() -> dict:
    """The demo's crawl settings: the sample portal's columns fast (8 requests at once, no delay: they are one
    local server the demo owns), but the department portal (www.nianbao-sz.onion and a subdomain per department,
    sampleportal/pages.DepartmentSubdomains) as a portal is crawled: its one download slot (the registrable
    domain, crawler/middlewares.py) takes one request at a time and DEMO_DELAY between them, whichever subdomain
    each one asks. With a slot per host name each subdomain would get 8 at once and no delay."""
    from sampleportal.resolver import DEPARTMENTS_DOMAIN

    return {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
            "LOG_LEVEL": "WARNING", "TWISTED_DNS_RESOLVER": PORTAL_RESOLVER,
            "DOWNLOAD_SLOTS": {DEPARTMENTS_DOMAIN: {"concurrency": 1, "delay": DEMO_DELAY, "jitter": 0}}}


def _demo_portal(data: Path):
    """The sample portal at the address this archive crawled it on before (discovered columns and documents
    are stored by their URLs), so a second demo is a quiet re-crawl; a new archive gets a free port."""
    from sampleportal.server import Portal

    remembered = data / DEMO_PORTAL
    port = json.loads(remembered.read_text())["port"] if remembered.exists() else _free_port()
    try:
        server = Portal(port=port)
    except OSError as exc:
        click.echo(f"error: the sample portal of {data} listened on 127.0.0.1:{port}, which cannot be used now "
                   f"({exc.strerror}); free that port or use another --data", err=True)
        sys.exit(EXIT_UNREADABLE)
    remembered.write_text(json.dumps({"port": port}))
    return server


@main.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=Path("data/demo"), show_default=True)
@click.option("--no-serve", is_flag=True, help="Stop after the crawl instead of serving Datasette.")
@click.option("--port", default=8001, show_default=True, help="Datasette port.")
def demo(data, no_serve, port):
    """Start the sample portal, crawl all of it, then serve Datasette and print both URLs. The portal keeps its
    address in DATA/demo-portal.json, so a second demo on the same DATA is a quiet re-crawl. Its columns are
    crawled fast, except the department portal (www.nianbao-sz.onion and eight department subdomains, one
    server): one download slot for all nine names, one request at a time, 0.25 s apart."""
    from archive import serve as archive_serve
    from archive.store import DB_NAME

    from .summary import record_partial

    with _writing(data, "demo"), _demo_portal(data) as server:
        click.echo(f"sample portal: {server.url}/")
        stats = run_crawl(_registry([str(SAMPLE_SITES), str(SAMPLE_PORTALS)], None, server.url), data,
                          demo_settings(), command="demo")
        _stop_if_storage_failed(data, stats)
        extraction = _extract_stage(data)
        record_partial(data, stats.get("nianbao/run_id"), extraction["partial_reports_by_site"])
        summary = _summary(stats, extraction)
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
        _discovery_lines(summary["sites"])  # the front door's walk: columns found, in how many pages
        if no_serve:
            return
        process = archive_serve.start(data / DB_NAME, port)
        click.echo(f"datasette:     http://127.0.0.1:{port}/\nsample portal: {server.url}/\n(Ctrl-C to stop)")
        try:
            while process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            process.terminate()


@main.command()
@click.argument("url")
@click.option("--max-pages", default=300, show_default=True, type=click.IntRange(1, 100000),
              help="Pages the walk may request (NIANBAO_DISCOVERY_MAX_PAGES).")
@click.option("--name", help="The government's name (default: the portal's SiteName or <title>).")
@click.option("-s", "settings", multiple=True, help="Scrapy setting NAME=VALUE (repeatable).")
def discover(url, max_pages, name, settings):
    """Walk one portal from URL and print, as registry YAML, the 年报 columns found and the evidence.

    Exit 4 when no column is found or the portal blocks the walk (the reason is printed).
    """
    import tempfile

    from crawler.discovery import Walk

    from .discover import registry_yaml, run_discovery

    with tempfile.TemporaryDirectory(prefix="nianbao-discover-") as scratch:
        overrides = {"NIANBAO_DISCOVERY_MAX_PAGES": max_pages, "LOG_LEVEL": "WARNING", **_parse_settings(settings)}
        try:
            walk: Walk = run_discovery(url, Path(scratch), overrides, name)
        except ValueError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
    outcome, line = walk.outcome()
    click.echo(registry_yaml(url, walk), nl=False)
    click.echo(f"{url}: {line}", err=True)
    if not walk.columns:
        sys.exit(4)


@main.command(name="sites")
@registry_options
@click.option("--portal-url", help="The sample portal's base URL, substituted for ${PORTAL} (its port for "
                                   "${PORTAL_PORT}) in the registry.")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path),
              help="An archive: says which sites a crawl verified (found a report there).")
@click.option("--list", "as_list", is_flag=True, help="List every entry (tab-separated) after the counts.")
def sites_command(sites, portals, region, allow_any_host, portal_url, data, as_list):
    """Validate the registry and count its entries by province and level; say which a crawl verified."""
    from archive.store import check_intact

    from .registry_report import counts_table, entry_lines, verified_ids

    loaded = _registry(sites, portals, portal_url, region, allow_any_host=allow_any_host)
    if data:
        check_intact(data)
    verified = verified_ids(data) if data else set()
    click.echo(counts_table(loaded, verified))
    if as_list:
        for line in entry_lines(loaded, verified):
            click.echo(line)


if __name__ == "__main__":
    main()
