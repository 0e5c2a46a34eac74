"""Run extraction over archived payloads in worker processes, offline.

Each document is read in a forked child with a time and memory limit, so a hostile
or broken file can neither hang the run nor take the parent down: it becomes a
recorded failure. The crawl never does this work inside Scrapy's reactor.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from pipelines.document import UnreadableDocument
from pipelines.extract import PARSER_VERSION, extract_with_text

from .changes import record_changes
from .store import Archive

TIME_LIMIT = 90  # seconds per document
MEMORY_LIMIT = 4 * 1024**3  # address space per worker; LibreOffice needs a lot of it


@dataclass
class ExtractionStats:
    ok: int = 0
    failed: int = 0
    failures: list = field(default_factory=list)


def _hints(job: dict) -> dict:
    meta = json.loads(job.get("metadata") or "{}")
    return {
        "title": job.get("report_title") or job.get("title"),
        "agency": job.get("agency"),
        "published": meta.get("published") or job.get("published"),
    }


def _work(conn, data: bytes, job: dict, memory_limit: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    except (ValueError, OSError):
        pass
    try:
        record, text = extract_with_text(
            data, name=job["url"].rsplit("/", 1)[-1].split("?")[0], url=job["url"],
            media_type=job.get("media_type"), hints=_hints(job),
        )
        conn.send(("ok", record, text))
    except UnreadableDocument as exc:
        conn.send(("failed", str(exc), None))
    except MemoryError:
        conn.send(("failed", f"memory limit of {memory_limit // 1024**2} MiB exceeded", None))
    except Exception as exc:  # a parser bug must become a recorded failure, not a lost run
        conn.send(("failed", f"{type(exc).__name__}: {exc}", None))
    finally:
        conn.close()


def extract_versions(
    archive: Archive,
    jobs: list[dict],
    workers: int = 2,
    time_limit: float = TIME_LIMIT,
    memory_limit: int = MEMORY_LIMIT,
    progress=None,
) -> ExtractionStats:
    context = multiprocessing.get_context("fork")
    stats = ExtractionStats()
    queue = list(jobs)
    running: dict = {}  # connection -> (process, job, started)
    while queue or running:
        while queue and len(running) < workers:
            job = queue.pop(0)
            parent, child = context.Pipe(duplex=False)
            process = context.Process(target=_work, args=(child, archive.blobs.get(job["sha256"]), job, memory_limit))
            process.start()
            child.close()
            running[parent] = (process, job, time.monotonic())
        for conn in wait(list(running), timeout=0.2):
            process, job, started = running.pop(conn)
            try:
                status, payload, text = conn.recv()
            except EOFError:
                status, payload, text = "failed", f"worker died (exit code {process.join(5) or process.exitcode})", None
            process.join(5)
            if time.monotonic() - started > time_limit:  # late is over the limit, however it ended
                status, payload, text = "failed", f"time limit of {time_limit:g}s exceeded", None
            _save(archive, job, status, payload, text, stats, progress)
        for conn, (process, job, started) in list(running.items()):
            if time.monotonic() - started > time_limit:
                process.kill()
                process.join(5)
                running.pop(conn)
                _save(archive, job, "failed", f"time limit of {time_limit:g}s exceeded", None, stats, progress)
    return stats


def _save(archive, job, status, payload, text, stats, progress) -> None:
    if status == "ok":
        archive.save_extraction(job["id"], payload, text, None, PARSER_VERSION)
        stats.ok += 1
    else:
        archive.save_extraction(job["id"], None, None, payload, PARSER_VERSION)
        stats.failed += 1
        stats.failures.append({"url": job["url"], "reason": payload})
    if progress:
        progress()


def extract_pending(archive: Archive, all_versions: bool = False, workers: int = 2, progress_factory=None) -> ExtractionStats:
    """Extract what has not been (or, with all_versions, everything), then re-choose sources."""
    jobs = archive.pending_versions(all_versions=all_versions, parser_version=PARSER_VERSION)
    advance = progress_factory(len(jobs)) if progress_factory else None
    stats = extract_versions(archive, jobs, workers=workers, progress=advance)
    archive.choose_sources()
    record_changes(archive.db)
    return stats
