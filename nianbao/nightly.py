"""The unattended nightly run: lock, resumable crawl, extraction, search index, atomic publish, summary.

A killed run leaves its Scrapy JOBDIR behind; the next run resumes from it instead of
starting over, and removes it once a crawl finishes. The published database is a
consistent copy (SQLite backup API) swapped in with a rename, so ``serve`` never
opens a half-built state.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from archive.store import DB_NAME, LOCK_NAME, Archive, ArchiveBusy, check_intact, writer_lock  # noqa: F401 (LOCK_NAME: re-exported)

JOBDIR_NAME = "jobdir"
PUBLISHED = "published"


AlreadyRunning = ArchiveBusy  # the name this module used before every writer shared one lock


@contextmanager
def exclusive(data: Path, command: str = "nightly"):
    """Hold the archive's writer lock (DIR/writer.lock) for the run; a second writer is refused at once."""
    with writer_lock(data, command):
        check_intact(data)  # a damaged database: one line (exit 6), never published, nothing written to it
        yield


def publish(data: Path) -> Path:
    """Copy the working database to DIR/published/ consistently, with inspect data, then rename it in."""
    from archive.serve import inspect_file

    target_dir = data / PUBLISHED
    staging = data / f".{PUBLISHED}-building"  # same file system, so the renames are atomic
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    target_dir.mkdir(exist_ok=True)
    building = staging / DB_NAME  # inspect data is keyed by the file's name
    source = sqlite3.connect(data / DB_NAME)
    copy = sqlite3.connect(building)
    with copy:
        source.backup(copy)
    copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, readable immutable
    copy.close()
    source.close()
    inspect = inspect_file(building)
    os.replace(inspect, target_dir / "inspect-data.json")
    os.replace(building, target_dir / DB_NAME)
    shutil.rmtree(staging, ignore_errors=True)
    return target_dir / DB_NAME


def discovery_settings(rediscover: bool, every_days: float | None) -> dict:
    """A nightly run crawls the known columns of portal sites; it walks a portal's navigation again
    only when its last walk is older than NIANBAO_REDISCOVER_DAYS (default 30), or with --rediscover."""
    settings: dict = {}
    if rediscover:
        settings["NIANBAO_REDISCOVER"] = True
    if every_days is not None:
        settings["NIANBAO_REDISCOVER_DAYS"] = every_days
    return settings


def failure_rate(stats: dict) -> float:
    """Requests that failed for good (retries exhausted) per request made."""
    requests = stats.get("downloader/request_count", 0) or 1
    return stats.get("retry/max_reached", 0) / requests


def repair_jobdir(data: Path) -> list[Path]:
    """Drop the request queues of a run that was killed, and return the job directories whose queues went.

    Scrapy writes a job's queue state (``requests.queue/active.json``, each disk queue's size header and
    ``info.json``) only when the crawl closes; a run killed outright (SIGKILL, power loss) leaves queue files
    without it. Read again they fail (an empty LIFO file: ``struct.error``) or, worse, answer the killed run's
    stale entries in place of the new ones, so that a column's start request is silently never sent (a
    crawl of many hosts with a few requests each, a portal's department subdomains, shows it at once). Such a
    job starts its queues and its seen-set afresh; what the killed run already archived is answered from the
    archive (the resume set, crawler/extension.py), so nothing is fetched twice and nothing is lost. A job that
    was shut down (Ctrl-C, SIGTERM) closed its queues and resumes from them as Scrapy does."""
    dropped = []
    for queue in sorted((data / JOBDIR_NAME).glob("**/requests.queue")):
        if queue.is_dir() and not (queue / "active.json").exists():
            shutil.rmtree(queue, ignore_errors=True)
            (queue.parent / "requests.seen").unlink(missing_ok=True)
            dropped.append(queue.parent)
    return dropped


def clear_jobdir(data: Path, stats: dict) -> bool:
    """A finished crawl needs no resume state; a killed or shut-down one keeps it."""
    if stats.get("finish_reason") == "finished":
        shutil.rmtree(data / JOBDIR_NAME, ignore_errors=True)
        return True
    return False
