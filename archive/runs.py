"""Crawl runs and their per-site summaries. Tables owned: runs, run_sites.

:class:`RunLog` (a mixin of :class:`archive.store.Archive`) starts and finishes a run; the functions below are
the queries on runs, named once: the CLI and the nightly run call these and hold no SQL of their own.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from .writer import acquire_writer, now, release_writer

if TYPE_CHECKING:
    from .store import Archive


class RunLog:
    def start_run(self, command: str, sites: list[str]) -> int:
        """Record a new run; its process holds the writer lock from here to finish_run or its death (reentrant:
        the ``nianbao`` command usually took it already), so a run still marked running was killed."""
        acquire_writer(self.dir, command)
        with self.db.conn:
            # a run still "running" when another starts was killed: say so
            self.db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            run_id = self.db["runs"].insert(
                {"started": now(), "command": command, "sites": json.dumps(sites), "status": "running"}
            ).last_pk
        shutil.rmtree(self.dir / "spool", ignore_errors=True)  # half-received bodies of killed runs
        return run_id

    def interrupted_run(self) -> int | None:
        """The last run still marked running: it was killed (start_run has not yet said so)."""
        row = self.db.execute("SELECT id FROM runs WHERE status = 'running' ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def spool_dir(self) -> Path:
        """Where this run's downloads stream to before they are moved into the blob store."""
        return self.dir / "spool" / f"run-{self.run_id or 0:06d}"

    def finish_run(self, run_id: int, status: str, stats: dict) -> None:
        self.flush_writes()
        if run_id == self.run_id:  # bodies refused or never archived (HTTP errors) end here
            shutil.rmtree(self.spool_dir(), ignore_errors=True)
        with self.db.conn:
            self.db["runs"].update(
                run_id, {"finished": now(), "status": status, "stats": json.dumps(stats, ensure_ascii=False)}
            )
        if run_id == self.run_id:
            release_writer(self.dir)  # the hold start_run took; the command's own hold, if any, remains


    def fail_run(self, run_id: int, reason: str, stats: dict | None = None) -> bool:
        """The storage failed: undo the open group (its rows, and its WARC records, which also frees their
        space), then mark the run failed with the reason. False when even that small write was refused: the run
        stays marked running and the next run marks it interrupted. Bodies still spooled are the crawl's until
        it stops; the next run's start removes them."""
        self.abandon_writes()
        if run_id == self.run_id and self.warc is not None:
            self._cut_warc_to_committed()
        try:
            with self.db.conn:
                self.db.execute("UPDATE runs SET finished = ?, status = 'failed', stats = ? WHERE id = ?",
                                [now(), json.dumps({**(stats or {}), "nianbao/storage_failed": reason},
                                                   ensure_ascii=False), run_id])
            return True
        except (OSError, sqlite3.Error):
            return False
        finally:
            if run_id == self.run_id:
                release_writer(self.dir)


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
