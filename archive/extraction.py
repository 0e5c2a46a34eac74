"""Run extraction over documents in worker processes with limits, offline.

Each document is read in a forked child with a time and memory limit, so a hostile
or broken file can neither hang the run nor take the parent down: it becomes a
recorded failure. Every path that reads documents goes through here: the crawl's
extraction stage, ``reextract``, ``extract`` and ``import``. The crawl never does this
work inside Scrapy's reactor.

The limits can be set per machine: NIANBAO_EXTRACT_TIME_LIMIT (seconds) and
NIANBAO_EXTRACT_MEMORY_LIMIT (MiB of address space per worker).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from pipelines.document import UnreadableDocument
from pipelines.extract import PARSER_VERSION, extract_with_text

from .changes import record_changes
from .store import Archive, forget_inherited_locks

TIME_LIMIT = 90  # seconds per document
MEMORY_LIMIT = 4 * 1024**3  # address space per worker; LibreOffice needs a lot of it


def configured_time_limit() -> float:
    return float(os.environ.get("NIANBAO_EXTRACT_TIME_LIMIT") or TIME_LIMIT)


def configured_memory_limit() -> int:
    mib = os.environ.get("NIANBAO_EXTRACT_MEMORY_LIMIT")
    return int(float(mib) * 1024**2) if mib else MEMORY_LIMIT


@dataclass
class ExtractionStats:
    ok: int = 0
    failed: int = 0
    failures: list = field(default_factory=list)


def _hints(job: dict) -> dict | None:
    meta = json.loads(job.get("metadata") or "{}")
    hints = {
        "title": job.get("report_title") or job.get("title"),
        "agency": job.get("agency"),
        "published": meta.get("published") or job.get("published"),
    }
    return hints if any(hints.values()) else None


def _confine(memory_limit: int, cpu_seconds: float) -> None:
    """The worker's own bounds, inherited by anything it starts (LibreOffice): address space, and CPU time
    as a backstop should the parent die and no longer be there to kill it."""
    os.setpgid(0, 0)  # its own process group, so a kill reaches the converters it started too
    forget_inherited_locks()
    for limit, value in ((resource.RLIMIT_AS, memory_limit), (resource.RLIMIT_CPU, int(cpu_seconds) + 5)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


def _name(job: dict) -> str:
    return job.get("name") or (job.get("url") or "document").rsplit("/", 1)[-1].split("?")[0]


def _read(data: bytes, job: dict) -> tuple:
    try:
        record, text = extract_with_text(
            data, name=_name(job), url=job.get("url"), media_type=job.get("media_type"), hints=_hints(job),
            charset=json.loads(job.get("metadata") or "{}").get("charset"),  # the HTTP charset the crawl read
        )
        return "ok", record, text
    except UnreadableDocument as exc:
        return "failed", str(exc), None
    except RecursionError:
        return "failed", "the document nests deeper than the reader allows (self-referencing structure?)", None
    except Exception as exc:  # a parser bug must become a recorded failure, not a lost run
        return "failed", f"{type(exc).__name__}: {exc}", None


def _work(conn, data: bytes, job: dict, memory_limit: int, cpu_seconds: float = TIME_LIMIT) -> None:
    _confine(memory_limit, cpu_seconds)
    # built before reading: once memory is exhausted, even formatting a message can fail
    over_memory = ("failed", f"memory limit of {memory_limit // 1024**2} MiB exceeded", None)
    try:
        outcome = _read(data, job)
    except MemoryError:
        outcome = over_memory  # leaving this block frees the traceback and what the reader built
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(over_memory)
    finally:
        conn.close()


def _kill(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the worker and whatever it started
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.join(5)


def _died(process, memory_limit: int) -> str:
    process.join(5)
    code = process.exitcode
    if code == -signal.SIGXCPU:
        return "CPU time limit exceeded"
    if code is not None and code < 0:
        return f"the reader crashed ({signal.Signals(-code).name}) under the memory limit of {memory_limit // 1024**2} MiB"
    return f"the reader died without an answer (exit code {code}) under the memory limit of {memory_limit // 1024**2} MiB"


def run_limited(jobs: list[dict], payload_of, on_result, workers: int = 2, time_limit: float | None = None,
                memory_limit: int | None = None) -> None:
    """Extract each job's bytes (``payload_of(job)``) in a limited worker; ``on_result(job, status, record or
    reason, text)`` is called in this process, in completion order."""
    time_limit = time_limit if time_limit is not None else configured_time_limit()
    memory_limit = memory_limit if memory_limit is not None else configured_memory_limit()
    context = multiprocessing.get_context("fork")
    queue = list(jobs)
    running: dict = {}  # connection -> (process, job, started)
    try:
        while queue or running:
            while queue and len(running) < workers:
                job = queue.pop(0)
                parent, child = context.Pipe(duplex=False)
                process = context.Process(target=_work, args=(child, payload_of(job), job, memory_limit, time_limit))
                process.start()
                child.close()
                running[parent] = (process, job, time.monotonic())
            for conn in wait(list(running), timeout=0.2):
                process, job, started = running.pop(conn)
                try:
                    status, payload, text = conn.recv()
                except (EOFError, OSError):
                    status, payload, text = "failed", _died(process, memory_limit), None
                process.join(5)
                conn.close()
                if time.monotonic() - started > time_limit:  # late is over the limit, however it ended
                    status, payload, text = "failed", f"time limit of {time_limit:g}s exceeded", None
                on_result(job, status, payload, text)
            for conn, (process, job, started) in list(running.items()):
                if time.monotonic() - started > time_limit:
                    _kill(process)
                    running.pop(conn)
                    conn.close()
                    on_result(job, "failed", f"time limit of {time_limit:g}s exceeded", None)
    finally:  # Ctrl-C or an error here: workers live in their own process groups, so end them explicitly
        for process, _, _ in running.values():
            _kill(process)


def extract_versions(
    archive: Archive,
    jobs: list[dict],
    workers: int = 2,
    time_limit: float | None = None,
    memory_limit: int | None = None,
    progress=None,
) -> ExtractionStats:
    stats = ExtractionStats()
    run_limited(jobs, lambda job: archive.blobs.get(job["sha256"]),
                lambda job, status, payload, text: _save(archive, job, status, payload, text, stats, progress),
                workers=workers, time_limit=time_limit, memory_limit=memory_limit)
    return stats


def extract_files(documents: list[tuple[str, bytes | Path, str | None]], workers: int = 2) -> list[tuple[dict | None, str]]:
    """(name, bytes or a path, url) → (record, "") or (None, reason), in the given order, under the same limits
    as the crawl: what ``nianbao extract`` and ``nianbao import`` read."""
    results: dict[int, tuple[dict | None, str]] = {}

    def keep(job, status, payload, text):
        results[job["index"]] = (payload, "") if status == "ok" else (None, payload)

    jobs = [{"index": i, "name": name, "url": url} for i, (name, _, url) in enumerate(documents)]
    def payload_of(job):
        data = documents[job["index"]][1]
        return data.read_bytes() if isinstance(data, Path) else data

    run_limited(jobs, payload_of, keep, workers=workers)
    return [results[i] for i in range(len(documents))]


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
