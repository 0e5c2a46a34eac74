"""The per-site summary of a crawl, read once from its Scrapy stats (``nianbao/site/<id>/<count>``).

``crawl``, ``demo`` and ``nightly`` all print and store what this module makes of the stats.
"""

from __future__ import annotations

from archive import runs
from archive.store import Archive

SITE_PREFIX = "nianbao/site/"
# what the crawl summary shows per site (the first eleven are the printed table's columns); reports_found counts
# the known reports too (listed again, not asked for: not their night to be re-checked, NIANBAO_RECHECK_DAYS)
SITE_COUNTS = ("reports_found", "new_versions", "unchanged", "known", "skipped", "blocked", "refused", "robots",
               "too_large", "failed", "http_error", "skipped_links", "not_a_file", "bounded", "listed", "declared", "coverage_short",
               "columns", "columns_failed", "partial_reports")
# the per-site counts that mean a site needs a person's look, beside finding no report at all
TROUBLE_COUNTS = ("blocked", "refused", "robots", "too_large", "failed", "http_error", "coverage_short",
                  "columns_failed", "partial_reports")
# what a run stores per site (run_sites) and totals (runs.summary)
RUN_COUNTS = ("reports_found", "new_reports", "new_versions", "unchanged", "known", "failed", "blocked", "skipped",
              "partial_reports")


def needs_a_look(counts: dict) -> bool:
    """A site's counts (``per_site``) show it found no report, or met a failure, a block or a short column."""
    return not counts.get("reports_found") or any(counts.get(name) for name in TROUBLE_COUNTS)


def site_stats(stats: dict) -> dict[str, dict]:
    """Every per-site stat, by site id: the one parser of the ``nianbao/site/`` keys."""
    sites: dict[str, dict] = {}
    for key, value in stats.items():
        if key.startswith(SITE_PREFIX):
            site, name = key[len(SITE_PREFIX):].rsplit("/", 1)
            sites.setdefault(site, {})[name] = value
    return sites


FAILED = "failed_"  # failed_dns_error, failed_timeout, failed_http_404 …: fetch failures by kind


def failures(counts: dict, prefix: str = "") -> dict:
    """Fetch failures by kind (dns_error, timeout, connection_refused, tls_error, connection_lost, http_404 …),
    from counts named ``failed_KIND``."""
    return {k[len(prefix + FAILED):]: v for k, v in sorted(counts.items()) if k.startswith(prefix + FAILED) and v}


def per_site(stats: dict, partial: dict | None = None) -> dict:
    """The crawl summary's sites: every count (0 when absent), failures by kind, the coverage check, and
    (``partial``, from the archive after extraction) the reports whose figures left out rows of their tables."""
    sites = {site: {**dict.fromkeys(SITE_COUNTS, 0), **{k: v for k, v in counts.items() if not k.startswith(FAILED)},
                    "fetch_failures": failures(counts)}
             for site, counts in site_stats(stats).items()}
    for site, count in (partial or {}).items():
        if site in sites:
            sites[site]["partial_reports"] = count
    for counts in sites.values():
        if counts.get("declared"):  # the coverage check: the items of the columns that declare a size, against it
            counts["coverage"] = f"found {counts.get('listed_declaring', 0)} of {counts['declared']}"
        elif counts.get("declared_pages"):
            counts["coverage"] = f"found {counts.get('pages_read', 0)} of {counts['declared_pages']} pages"
    return sites


def crawl_summary(stats: dict, extraction: dict, reports_in_archive: int, partial: dict | None = None) -> dict:
    """What ``crawl`` and ``demo`` print as JSON."""
    return {
        "reports_in_archive": reports_in_archive,
        "reports_found": stats.get("nianbao/reports_found", 0),
        "new_versions": stats.get("nianbao/new_versions", 0),
        "unchanged": stats.get("nianbao/unchanged", 0),
        "known": stats.get("nianbao/known", 0),
        "skipped": stats.get("nianbao/skipped", 0),
        "blocked": stats.get("nianbao/blocked", 0),
        "refused": stats.get("nianbao/refused", 0),
        "robots": stats.get("nianbao/robots", 0),
        "too_large": stats.get("nianbao/too_large", 0),
        "failed_fetches": stats.get("nianbao/failed", 0),
        "http_errors": stats.get("nianbao/http_error", 0),
        "fetch_failures": failures(stats, "nianbao/"),
        "skipped_links": stats.get("nianbao/skipped_links", 0),
        "columns_failed": stats.get("nianbao/columns_failed", 0),
        "bounds_hit": {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("nianbao/bound/")},
        "warnings": [w for w in str(stats.get("nianbao/warnings") or "").split("\n") if w],
        **{k: v for k, v in extraction.items() if k not in ("failures", "partial_reports_by_site")},
        "partial_reports": sum((partial or {}).values()),
        "sites": per_site(stats, partial),
    }


def record_run(archive: Archive, run_id: int, stats: dict, gone_quiet: list[str] = ()) -> dict:
    """Per site and in total, with the reports new since the run started, and the sites gone quiet; stored in
    run_sites and runs.summary (crawler/extension.py's ``end_run``, at the end of every run)."""
    sites = {site: {name: counts.get(name, 0) for name in RUN_COUNTS} for site, counts in site_stats(stats).items()}
    for site_id, new in runs.new_reports_by_site(archive, runs.started(archive, run_id)).items():
        sites.setdefault(site_id, dict.fromkeys(RUN_COUNTS, 0))["new_reports"] = new
    for site_id, partial in archive.partial_reports_by_site().items():
        if site_id in sites:
            sites[site_id]["partial_reports"] = partial
    total = {name: sum(s[name] for s in sites.values()) for name in RUN_COUNTS}
    summary = {"total": total, "sites": sites, "gone_quiet": list(gone_quiet)}
    runs.save_summary(archive, run_id, summary)
    return summary


def stored_summary(data, run_id: int) -> dict:
    """The summary a run recorded (runs.summary), read once by the command that printed it."""
    import json

    archive = Archive(data)
    try:
        row = archive.db["runs"].get(run_id)
    finally:
        archive.db.conn.close()
    return json.loads(row["summary"] or "{}")


def record_partial(data, run_id: int | None, partial: dict) -> dict:
    """After extraction: the reports whose figures were read only in part (``partial``), per site, added to what
    the run recorded at its end (run_sites.partial_reports and runs.summary); returns the summary."""
    summary = stored_summary(data, run_id) if run_id else {}
    if not summary.get("sites"):
        return summary
    for site, counts in summary["sites"].items():
        counts["partial_reports"] = partial.get(site, 0)
    summary.setdefault("total", {})["partial_reports"] = sum(c["partial_reports"] for c in summary["sites"].values())
    archive = Archive(data)
    try:
        runs.save_summary(archive, run_id, summary)
    finally:
        archive.db.conn.close()
    return summary


def all_columns_failed(sites: dict) -> list[str]:
    """Sites (``per_site``) that have columns and read none of them: each failed or never answered."""
    return sorted(site for site, counts in sites.items()
                  if counts.get("columns") and counts.get("columns_failed", 0) >= counts["columns"])


def gone_quiet(archive: Archive, site_ids: list[str], now: dict, run_id: int | None) -> list[str]:
    """Sites that yielded reports in an earlier run and none in this one."""
    return [site for site in site_ids
            if not now.get(site, {}).get("reports_found") and runs.yielded_reports_before(archive, site, run_id)]
