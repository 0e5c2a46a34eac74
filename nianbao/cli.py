"""The ``nianbao`` command: portal, crawl, extract, reextract, export, serve, demo."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import click

PACKAGE = Path(__file__).resolve().parent
SAMPLE_SITES = PACKAGE / "portal" / "sites.yml"


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
            click.echo(f"error: bad registry: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Main)
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
    from .portal.server import Portal

    server = Portal(port=port, flaky=flaky, seed=seed)
    click.echo(f"sample portal: {server.url}/  (registry: {SAMPLE_SITES})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def run_crawl(sites: list[str], data: Path, settings: dict, portal_url: str | None = None,
              shard: str | None = None) -> dict:
    """Run the real Scrapy engine over the registry (or one shard of it); returns the crawl's stats."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler import sites as registry
    from crawler.spiders.columns import ColumnSpider

    loaded = registry.select_shard(registry.load(sites, portal=portal_url), shard)
    merged = Settings()
    merged.setmodule("crawler.settings", priority="project")
    merged.set("NIANBAO_DATA", str(data), priority="cmdline")
    merged.set("NIANBAO_SITE_IDS", [s.id for s in loaded], priority="cmdline")
    for name, value in settings.items():
        merged.set(name, value, priority="cmdline")
    process = CrawlerProcess(merged)
    crawler = process.create_crawler(ColumnSpider)
    process.crawl(crawler, sites_files=",".join(str(s) for s in sites), portal=portal_url, shard=shard)
    process.start()
    return crawler.stats.get_stats()


def _parse_settings(pairs) -> dict:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="-s")
        name, value = pair.split("=", 1)
        out[name.strip()] = value
    return out


def _extract_stage(data: Path, all_versions: bool = False) -> dict:
    from rich.progress import Progress

    from archive.extraction import extract_pending
    from archive.store import Archive

    archive = Archive(data)
    with Progress(transient=True) as progress:
        def factory(total):
            task = progress.add_task("extracting", total=total)
            return lambda: progress.advance(task)

        stats = extract_pending(archive, all_versions=all_versions, progress_factory=factory)
    archive.build_search()
    archive.checkpoint()
    return {"extracted": stats.ok, "failed": stats.failed, "failures": stats.failures}


SITE_COUNTS = ("reports_found", "new_versions", "unchanged", "skipped", "blocked", "refused", "robots", "too_large",
               "failed", "http_error", "skipped_links", "not_a_file", "bounded", "listed", "declared", "coverage_short")


def _per_site(stats: dict) -> dict:
    sites: dict = {}
    for key, value in stats.items():
        if key.startswith("nianbao/site/"):
            site, name = key[len("nianbao/site/"):].rsplit("/", 1)
            sites.setdefault(site, dict.fromkeys(SITE_COUNTS, 0))[name] = value
    for counts in sites.values():
        if counts.get("declared"):  # the coverage check: what was read against what the columns declare
            counts["coverage"] = f"found {counts.get('listed', 0)} of {counts['declared']}"
        elif counts.get("declared_pages"):
            counts["coverage"] = f"found {counts.get('pages_read', 0)} of {counts['declared_pages']} pages"
    return sites


def _gone_quiet(archive, site_ids: list[str], now: dict, run_id: int | None) -> list[str]:
    """Sites that yielded reports in an earlier run and none in this one."""
    quiet = []
    for site in site_ids:
        if now.get(site, {}).get("reports_found"):
            continue
        key = f'$."nianbao/site/{site}/reports_found"'
        earlier = archive.db.execute(
            "SELECT count(*) FROM runs WHERE id IS NOT ? AND json_extract(stats, ?) > 0", [run_id, key]
        ).fetchone()[0]
        if earlier:
            quiet.append(site)
    return quiet


def _print_sites(sites: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="crawl summary per site")
    table.add_column("site")
    shown = (*SITE_COUNTS[:10], "coverage")
    for name in shown:
        table.add_column(name.replace("_", " "), justify="right")
    for site, counts in sorted(sites.items()):
        table.add_row(site, *(str(counts.get(n, "")) for n in shown))
    Console(stderr=True).print(table)


def _summary(stats: dict, extraction: dict, data: Path) -> dict:
    from archive.store import Archive

    archive = Archive(data)
    archive.checkpoint()
    reports = archive.db.execute("SELECT count(*) FROM reports").fetchone()[0]
    return {
        "reports_in_archive": reports,
        "reports_found": stats.get("nianbao/reports_found", 0),
        "new_versions": stats.get("nianbao/new_versions", 0),
        "unchanged": stats.get("nianbao/unchanged", 0),
        "skipped": stats.get("nianbao/skipped", 0),
        "blocked": stats.get("nianbao/blocked", 0),
        "refused": stats.get("nianbao/refused", 0),
        "robots": stats.get("nianbao/robots", 0),
        "too_large": stats.get("nianbao/too_large", 0),
        "failed_fetches": stats.get("nianbao/failed", 0),
        "http_errors": stats.get("nianbao/http_error", 0),
        "skipped_links": stats.get("nianbao/skipped_links", 0),
        "bounds_hit": {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("nianbao/bound/")},
        "warnings": [w for w in str(stats.get("nianbao/warnings") or "").split("\n") if w],
        **{k: v for k, v in extraction.items() if k != "failures"},
        "sites": _per_site(stats),
    }


@main.command()
@click.option("--sites", "sites", multiple=True, required=True, type=click.Path(exists=True), help="Registry YAML (repeatable).")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True, help="Archive directory.")
@click.option("-s", "settings", multiple=True, help="Scrapy setting NAME=VALUE (repeatable).")
@click.option("--portal-url", help="Base URL substituted for ${PORTAL} in the registry.")
@click.option("--no-extract", is_flag=True, help="Only fetch and archive; run extraction later.")
@click.option("--shard", help="I/N: crawl only the registry entries whose host hashes to shard I of N.")
def crawl(sites, data, settings, portal_url, no_extract, shard):
    """Crawl the registry's columns into DATA (database: DATA/nianbao.db), then extract."""
    from archive.store import Archive
    from crawler import sites as registry

    site_ids = [s.id for s in registry.select_shard(registry.load(list(sites), portal=portal_url), shard)]
    stats = run_crawl(list(sites), data, _parse_settings(settings), portal_url, shard)
    extraction = {} if no_extract else _extract_stage(data)
    summary = _summary(stats, extraction, data)
    from archive.warc import write_cdxj

    write_cdxj(data / "warcs")
    _print_sites(summary["sites"])
    for warning in summary["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
    if summary["reports_found"] == 0 and site_ids:
        click.echo("error: the crawl found no report at all", err=True)
        sys.exit(3)
    quiet = _gone_quiet(Archive(data), site_ids, summary["sites"], stats.get("nianbao/run_id"))
    if quiet:
        click.echo(f"error: these sites yielded reports before and none now: {', '.join(quiet)}", err=True)
        sys.exit(4)


@main.command()
@click.option("--sites", "sites", multiple=True, required=True, type=click.Path(exists=True), help="Registry YAML (repeatable).")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True, help="Archive directory.")
@click.option("-s", "settings", multiple=True, help="Scrapy setting NAME=VALUE (repeatable).")
@click.option("--portal-url", help="Base URL substituted for ${PORTAL} in the registry.")
@click.option("--max-failure-rate", default=0.05, show_default=True, type=click.FloatRange(0, 1),
              help="Exit 5 when more requests than this share fail for good.")
def nightly(sites, data, settings, portal_url, max_failure_rate):
    """The scheduled run: lock, resumable incremental crawl, extraction, search index, atomic publish."""
    from archive.store import Archive
    from crawler import sites as registry

    from . import nightly as night

    try:
        with night.exclusive(data):
            site_ids = [s.id for s in registry.load(list(sites), portal=portal_url)]
            resumed = (data / night.JOBDIR_NAME).exists()
            overrides = {"JOBDIR": str(data / night.JOBDIR_NAME), "RETRY_TIMES": 3, **_parse_settings(settings)}
            stats = run_crawl(list(sites), data, overrides, portal_url)
            night.clear_jobdir(data, stats)
            extraction = _extract_stage(data)
            archive = Archive(data)
            summary = night.summarise(archive, stats["nianbao/run_id"], stats)
            silent = _gone_quiet(archive, site_ids, summary["sites"], stats["nianbao/run_id"])
            # a site whose pages failed is unreachable tonight (it counts in the failure rate); one that
            # answered and listed nothing has moved or emptied its column, which needs a person
            unreachable = [s for s in silent if summary["sites"].get(s, {}).get("failed")]
            quiet = [s for s in silent if s not in unreachable]
            night.publish(data)
    except night.AlreadyRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(75)
    _print_sites(summary["sites"])
    rate = night.failure_rate(stats)
    report = {**summary["total"], "resumed": resumed, "requests": stats.get("downloader/request_count", 0),
              "failed_for_good": stats.get("retry/max_reached", 0), "failure_rate": round(rate, 4),
              "quiet_sites": quiet, "unreachable_sites": unreachable, "extracted": extraction["extracted"], "extraction_failed": extraction["failed"],
              "bytes": stats.get("downloader/response_bytes", 0)}
    click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    if quiet:
        click.echo(f"error: these sites yielded reports before and none now: {', '.join(quiet)}", err=True)
        sys.exit(4)
    if rate > max_failure_rate:
        click.echo(f"error: {rate:.1%} of requests failed for good (threshold {max_failure_rate:.1%})", err=True)
        sys.exit(5)


@main.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True, help="The merged archive.")
@click.argument("shards", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
def merge(data, shards):
    """Fold shard archives (one per Scrapyd node) into one published archive."""
    from archive.merge import merge as merge_shard
    from archive.merge import shard_dirs
    from archive.store import Archive
    from archive.warc import write_cdxj

    target = Archive(data)
    results = [merge_shard(target, shard) for shard in shard_dirs(shards)]
    extraction = _extract_stage(data)
    write_cdxj(data / "warcs")
    click.echo(json.dumps({"shards": results, **{k: v for k, v in extraction.items() if k != "failures"}},
                          ensure_ascii=False, indent=1))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def extract(file):
    """Print the canonical JSON record of one local file."""
    from pipelines.document import UnreadableDocument
    from pipelines.extract import extract as extract_record

    try:
        record = extract_record(file.read_bytes(), name=file.name, url=file.resolve().as_uri())
    except UnreadableDocument as exc:
        click.echo(f"error: {file}: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(record, ensure_ascii=False, indent=1))


@main.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True)
def reextract(data):
    """Re-run extraction over every archived payload, offline."""
    click.echo(json.dumps(_extract_stage(data, all_versions=True), ensure_ascii=False, indent=1))


@main.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
def verify(data):
    """Re-hash every blob and WARC payload; exit 1 and list them if any no longer matches."""
    from archive.fixity import verify as run_verify
    from archive.store import Archive

    result = run_verify(Archive(data))
    click.echo(json.dumps(result, ensure_ascii=False, indent=1))
    if result["problems"]:
        click.echo(f"error: {len(result['problems'])} fixity problem(s)", err=True)
        sys.exit(1)


@main.command(name="import")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_files(data, files):
    """Add reports a researcher already holds (PDF, Word, HTML files) as local documents."""
    from archive.store import Archive
    from pipelines.document import UnreadableDocument
    from pipelines.extract import extract as extract_record

    archive = Archive(data)
    refused = 0
    for path in files:
        payload = path.read_bytes()
        try:
            record = extract_record(payload, name=path.name)
        except UnreadableDocument as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            refused += 1
            continue
        if not (record.get("agency") and record.get("year")):
            click.echo(f"error: {path}: no agency and year in the report's title; not imported", err=True)
            refused += 1
            continue
        report_id = archive.ensure_report(record["agency"], record["year"], record["title"])
        _, new = archive.store_payload(report_id=report_id, url=path.resolve().as_uri(), role="local", data=payload,
                                       fmt=record["source"]["format"], title=record["title"])
        click.echo(f"{path}: {record['agency']} {record['year']} ({'new version' if new else 'unchanged'})")
    click.echo(json.dumps(_extract_stage(data), ensure_ascii=False, indent=1))
    sys.exit(2 if refused else 0)


@main.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
def export(data, fmt):
    """Write one record per report (its latest version) to stdout."""
    from archive.export import write_csv, write_jsonl
    from archive.store import Archive

    archive = Archive(data)
    (write_csv if fmt == "csv" else write_jsonl)(archive, sys.stdout)


@main.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--port", default=8001, show_default=True)
def serve(data, port):
    """Serve the archive with Datasette on 127.0.0.1 (read-only)."""
    import subprocess

    from archive.serve import datasette_command
    from archive.store import Archive

    published = data / "published" / "nianbao.db"
    if published.exists():  # what the last nightly run published, swapped in whole
        sys.exit(subprocess.call(datasette_command(published, port)))
    archive = Archive(data)
    archive.build_search()
    archive.checkpoint()
    sys.exit(subprocess.call(datasette_command(archive.path, port)))


@main.command()
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=Path("data/demo"), show_default=True)
@click.option("--no-serve", is_flag=True, help="Stop after the crawl instead of serving Datasette.")
@click.option("--port", default=8001, show_default=True, help="Datasette port.")
def demo(data, no_serve, port):
    """Start the sample portal, crawl all of it, then serve Datasette and print both URLs."""
    from archive import serve as archive_serve
    from archive.store import DB_NAME

    from .portal.server import Portal

    with Portal(port=_free_port()) as server:
        click.echo(f"sample portal: {server.url}/")
        stats = run_crawl(
            [str(SAMPLE_SITES)], data,
            {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "LOG_LEVEL": "WARNING"},
            server.url,
        )
        summary = _summary(stats, _extract_stage(data), data)
        from archive.warc import write_cdxj

        write_cdxj(data / "warcs")
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
        if no_serve:
            return
        process = archive_serve.start(data / DB_NAME, port)
        click.echo(f"datasette:     http://127.0.0.1:{port}/\nsample portal: {server.url}/\n(Ctrl-C to stop)")
        try:
            while process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            process.terminate()


if __name__ == "__main__":
    main()
