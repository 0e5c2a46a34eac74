"""Queries on crawl runs and their per-site summaries (tables runs, run_sites), named once.

The CLI and the nightly run call these; they hold no SQL of their own.
"""

from __future__ import annotations

import json

from .store import Archive


def report_count(archive: Archive) -> int:
    return archive.db.execute("SELECT count(*) FROM reports").fetchone()[0]


def started(archive: Archive, run_id: int) -> str:
    return archive.db["runs"].get(run_id)["started"]


def new_reports_by_site(archive: Archive, since: str) -> dict[str, int]:
    """Reports first seen at or after ``since``, per registry site."""
    return dict(archive.db.execute(
        "SELECT a.site_id, count(*) FROM reports r JOIN agencies a ON a.id = r.agency_id "
        "WHERE r.first_seen >= ? GROUP BY a.site_id", [since]).fetchall())


def save_summary(archive: Archive, run_id: int, summary: dict) -> None:
    """run_sites (one row per site) and runs.summary, in one transaction."""
    with archive.db.conn:
        archive.db["run_sites"].insert_all(
            ({"run_id": run_id, "site_id": site, **counts} for site, counts in summary["sites"].items()),
            pk=("run_id", "site_id"), replace=True)
        archive.db["runs"].update(run_id, {"summary": json.dumps(summary, ensure_ascii=False)})


def yielded_reports_before(archive: Archive, site: str, run_id: int | None) -> bool:
    """Did any run other than ``run_id`` find reports on this site?"""
    key = f'$."nianbao/site/{site}/reports_found"'
    return archive.db.execute(
        "SELECT count(*) FROM runs WHERE id IS NOT ? AND json_extract(stats, ?) > 0", [run_id, key]
    ).fetchone()[0] > 0
