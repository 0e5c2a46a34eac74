"""Run extraction over documents in worker processes with limits, offline.

Documents are read in a pool of long-lived forked workers, each under an address-space
limit for its whole life and a time limit per document, so a hostile or broken file
can neither hang the run nor take the parent down: it becomes a recorded failure, and
the worker that read it is replaced (as is every worker after RECYCLE_AFTER documents).
A worker keeps its LibreOffice listening between .doc files. A payload read once is
never read again for the same inputs (same sha256, parser version, name and hints):
within a run the twins get a copy, and a version whose twin already has a record at
this parser version copies it from the archive. Every path that reads documents goes through here: the crawl's
extraction stage, ``reextract``, ``extract`` and ``import``. The crawl never does this
work inside Scrapy's reactor.

The limits can be set per machine: NIANBAO_EXTRACT_TIME_LIMIT (seconds) and
NIANBAO_EXTRACT_MEMORY_LIMIT (MiB of address space per worker), settings read through archive/settings.py.
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
from pathlib import Path, PurePosixPath

from pipelines.coverage import is_partial
from pipelines.document import UnreadableDocument
from pipelines.extract import PARSER_VERSION, extract_with_text
from pipelines.readers.children import die_with_parent

from . import settings
from .changes import record_changes
from .store import Archive, forget_inherited_locks

TIME_LIMIT = settings.DEFAULTS["NIANBAO_EXTRACT_TIME_LIMIT"]  # seconds per document
MEMORY_LIMIT = int(settings.DEFAULTS["NIANBAO_EXTRACT_MEMORY_LIMIT"] * 1024**2)  # address space per worker
RECYCLE_AFTER = 200  # documents a worker reads before it is replaced


def configured_time_limit(given=None) -> float:
    return settings.value("NIANBAO_EXTRACT_TIME_LIMIT", given)


def configured_workers(given=None) -> int:
    """NIANBAO_EXTRACT_WORKERS, 0 (the default) meaning one worker per core."""
    return settings.extract_workers(given)


def configured_memory_limit(given=None) -> int:
    return int(settings.value("NIANBAO_EXTRACT_MEMORY_LIMIT", given) * 1024**2)


@dataclass
class ExtractionStats:
    ok: int = 0
    failed: int = 0
    copied: int = 0  # of ok: records copied from a twin already read, not read again
    partial: int = 0  # of ok: records that left out rows their template has (stored as partial)
    failures: list = field(default_factory=list)


def _hints(job: dict) -> dict | None:
    meta = json.loads(job.get("metadata") or "{}")
    hints = {
        "title": job.get("report_title") or job.get("title"),
        "agency": job.get("agency"),
        "published": meta.get("published") or job.get("published"),
    }
    return hints if any(hints.values()) else None


def _confine(memory_limit: int, cpu_seconds: float, cpu: bool = True) -> None:
    """The worker's own bounds, inherited by anything it starts (LibreOffice): address space, and CPU time
    as a backstop should the parent die and no longer be there to kill it."""
    os.setpgid(0, 0)  # its own process group, so a kill reaches the converters it started too
    forget_inherited_locks()
    limits = [(resource.RLIMIT_AS, memory_limit)] + ([(resource.RLIMIT_CPU, int(cpu_seconds) + 5)] if cpu else [])
    for limit, value in limits:
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


def _work(conn, data: bytes, job: dict, memory_limit: int, cpu_seconds: float = TIME_LIMIT, parent: int | None = None,
          inherited: tuple = ()) -> None:
    """The old way, kept callable for the benchmark's baseline: one forked process per document, each .doc
    converted by a LibreOffice of its own."""
    from pipelines.readers import doc

    doc.PERSISTENT = False
    _become_worker(parent, inherited)
    _confine(memory_limit, cpu_seconds)
    try:
        conn.send(_read_limited(data, job, memory_limit))
    except MemoryError:
        conn.send(("failed", f"memory limit of {memory_limit // 1024**2} MiB exceeded", None))
    finally:
        conn.close()


def _read_limited(data: bytes, job: dict, memory_limit: int) -> tuple:
    # built before reading: once memory is exhausted, even formatting a message can fail
    over_memory = ("failed", f"memory limit of {memory_limit // 1024**2} MiB exceeded", None)
    try:
        outcome = _read(data, job)
    except MemoryError:
        outcome = over_memory  # leaving this block frees the traceback and what the reader built
    return outcome


def _cpu_budget(cpu_seconds: float) -> None:
    """RLIMIT_CPU counts a process's whole life: give this document its own allowance on top of what the
    worker has used so far (a backstop; the parent's wall-clock limit is the real one)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime + cpu_seconds) + 5
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    except (ValueError, OSError):
        pass


def _become_worker(parent: int, inherited: tuple) -> None:
    """A forked worker dies with the process that forked it, however it dies, and closes its copies of the
    parent's ends of every worker's pipe (its own included): none of them keeps a sibling's EOF from coming."""
    die_with_parent(parent, name="nianbao-extract")
    for end in inherited:
        end.close()


def _serve(conn, memory_limit: int, cpu_seconds: float, parent: int | None = None, inherited: tuple = ()) -> None:
    """A long-lived worker: documents one at a time until told to stop (None) or the parent goes away."""
    _become_worker(parent, inherited)
    _confine(memory_limit, cpu_seconds, cpu=False)
    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message is None:
                break
            data, job = message
            _cpu_budget(cpu_seconds)
            outcome = _read_limited(data, job, memory_limit)
            del data, message
            try:
                conn.send(outcome)
            except MemoryError:
                conn.send(("failed", f"memory limit of {memory_limit // 1024**2} MiB exceeded", None))
    finally:
        from pipelines.readers.doc import stop_persistent_converter

        stop_persistent_converter()
        conn.close()
        os._exit(0)  # no atexit handlers or buffers inherited from the parent


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


def _preload_readers() -> None:
    """Import the readers once here, so every worker (and every replacement after a failure) starts with
    them loaded instead of importing trafilatura, pdfplumber … again."""
    import importlib

    for name in ("html", "pdf", "docx", "doc", "sheets", "text"):
        try:
            importlib.import_module(f"pipelines.readers.{name}")
        except ImportError:  # a reader whose library is missing fails on its own documents, as before
            pass


@dataclass
class _Worker:
    process: object
    conn: object
    done: int = 0
    job: dict | None = None
    started: float = 0.0
    converter: bool = False  # it has read a .doc/.wps: the next go to it, so one worker counts them and one LibreOffice listens


CONVERTED = (".doc", ".wps")


def _wants_converter(job: dict) -> bool:
    return job.get("format") in ("doc", "wps") or PurePosixPath(_name(job)).suffix.lower() in CONVERTED


class WorkerPool:
    """Long-lived limited workers. Each keeps its address-space limit for its whole life and gets a fresh CPU
    allowance and wall-clock limit per document; it is replaced after any failure (whatever the reader left
    behind goes with it) and after ``recycle_after`` documents (so slow growth never accumulates)."""

    def __init__(self, size: int, time_limit: float, memory_limit: int, recycle_after: int = RECYCLE_AFTER):
        self.size, self.time_limit, self.memory_limit = max(1, size), time_limit, memory_limit
        self.recycle_after = recycle_after
        self.context = multiprocessing.get_context("fork")
        self.idle: list[_Worker] = []
        self.busy: dict = {}  # connection -> _Worker
        _preload_readers()


    def _spawn(self) -> _Worker:
        parent, child = self.context.Pipe(duplex=True)
        inherited = (parent, *(worker.conn for worker in (*self.idle, *self.busy.values())))
        process = self.context.Process(target=_serve, daemon=False,
                                       args=(child, self.memory_limit, self.time_limit, os.getpid(), inherited))
        process.start()
        child.close()
        return _Worker(process, parent)

    def _retire(self, worker: _Worker, kill: bool = False) -> None:
        if not kill:
            try:
                worker.conn.send(None)
                worker.process.join(10)
            except (OSError, ValueError):
                pass
        if worker.process.is_alive() or kill:
            _kill(worker.process)
        else:  # its converter lives in its process group: end anything it left
            try:
                os.killpg(worker.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        worker.conn.close()

    def has_room(self) -> bool:
        return len(self.busy) < self.size

    def converter_busy(self) -> bool:
        return any(worker.converter for worker in self.busy.values())

    def _idle_for(self, job: dict) -> _Worker:
        """An idle worker: for a .doc/.wps the one that took the earlier ones (its LibreOffice listens, or will once
        worth it), another for the rest, so one LibreOffice serves them all; a new worker when none is idle."""
        wants = _wants_converter(job)
        for n, worker in enumerate(self.idle):
            if worker.converter == wants:
                return self.idle.pop(n)
        return self.idle.pop() if self.idle else self._spawn()

    def submit(self, job: dict, data: bytes) -> None:
        worker = self._idle_for(job)
        worker.job, worker.started = job, time.monotonic()
        try:
            worker.conn.send((data, job))
        except (OSError, ValueError):  # it died idle: a fresh one takes the document
            self._retire(worker, kill=True)
            worker = self._spawn()
            worker.job, worker.started = job, time.monotonic()
            worker.conn.send((data, job))
        self.busy[worker.conn] = worker

    def collect(self, timeout: float = 0.2):
        """(job, status, record or reason, text) of documents finished or over their time limit."""
        results = []
        for conn in wait(list(self.busy), timeout=timeout):
            worker = self.busy.pop(conn)
            try:
                status, payload, text = conn.recv()
                alive = True
            except (EOFError, OSError):
                status, payload, text = "failed", _died(worker.process, self.memory_limit), None
                alive = False
            if time.monotonic() - worker.started > self.time_limit:  # late is over the limit, however it ended
                status, payload, text = "failed", f"time limit of {self.time_limit:g}s exceeded", None
            worker.done += 1
            worker.converter = worker.converter or (alive and _wants_converter(worker.job))
            if not alive or status != "ok" or worker.done >= self.recycle_after:
                self._retire(worker, kill=not alive)
            else:
                self.idle.append(worker)
            results.append((worker.job, status, payload, text))
        for conn, worker in list(self.busy.items()):
            if time.monotonic() - worker.started > self.time_limit:
                self.busy.pop(conn)
                self._retire(worker, kill=True)
                results.append((worker.job, "failed", f"time limit of {self.time_limit:g}s exceeded", None))
        return results

    def close(self, kill: bool = False) -> None:
        for worker in list(self.busy.values()):
            self._retire(worker, kill=True)
        self.busy.clear()
        for worker in self.idle:
            self._retire(worker, kill=kill)
        self.idle.clear()


def _content_key(job: dict) -> str:
    """Everything a record is made of besides the URL in its ``source``: the same key, the same record."""
    # of the name, readers look only at the extension (pipelines.readers.sniff)
    suffix = PurePosixPath(_name(job)).suffix.lower()
    return json.dumps([job.get("sha256"), PARSER_VERSION, suffix, job.get("media_type"), _hints(job)],
                      ensure_ascii=False, sort_keys=True)


def _with_url(record: dict, url: str | None) -> dict:
    copied = json.loads(json.dumps(record))
    copied["source"]["url"] = url
    return copied


def run_limited(jobs: list[dict], payload_of, on_result, workers: int = 2, time_limit: float | None = None,
                memory_limit: int | None = None, fork_per_document: bool | None = None) -> None:
    """Extract each job's bytes (``payload_of(job)``) in a limited worker; ``on_result(job, status, record or
    reason, text)`` is called in this process, in completion order. Jobs with the same payload and the same
    inputs (``_content_key``; jobs without a sha256 never share) are read once; the others get a copy.
    ``fork_per_document`` (or NIANBAO_EXTRACT_FORK_PER_DOCUMENT=1) is the old way, kept as a baseline."""
    time_limit = time_limit if time_limit is not None else configured_time_limit()
    memory_limit = memory_limit if memory_limit is not None else configured_memory_limit()
    if fork_per_document is None:
        fork_per_document = os.environ.get("NIANBAO_EXTRACT_FORK_PER_DOCUMENT") == "1"
    if fork_per_document:
        return _run_forking(jobs, payload_of, on_result, workers, time_limit, memory_limit)
    waiting: dict[str, list] = {}  # content key -> jobs that get the first one's answer
    queue = []
    for job in jobs:
        key = _content_key(job) if job.get("sha256") else None
        if key is not None and key in waiting:
            waiting[key].append(job)
            continue
        if key is not None:
            waiting[key] = []
        queue.append((key, job))
    queue.reverse()
    keys = {}
    pool = WorkerPool(workers, time_limit, memory_limit)
    try:
        while queue or pool.busy:
            while queue and pool.has_room():
                key, job = _next(queue, pool)
                keys[id(job)] = key
                pool.submit(job, payload_of(job))
            for job, status, payload, text in pool.collect():
                on_result(job, status, payload, text)
                for twin in waiting.get(keys.pop(id(job)), ()):
                    on_result(twin, status, _with_url(payload, twin.get("url")) if status == "ok" else payload, text)
    except BaseException:  # Ctrl-C or an error here: workers live in their own process groups
        pool.close(kill=True)
        raise
    pool.close()


def _next(queue: list, pool: WorkerPool) -> tuple:
    """The next job (the queue's end); a .doc waits for the worker whose LibreOffice listens while it is busy,
    and another kind of document goes first."""
    if _wants_converter(queue[-1][1]) and pool.converter_busy():
        for n in range(len(queue) - 1, -1, -1):
            if not _wants_converter(queue[n][1]):
                return queue.pop(n)
    return queue.pop()


def _run_forking(jobs, payload_of, on_result, workers, time_limit, memory_limit) -> None:
    context = multiprocessing.get_context("fork")
    queue = list(jobs)
    running: dict = {}  # connection -> (process, job, started)
    try:
        while queue or running:
            while queue and len(running) < workers:
                job = queue.pop(0)
                parent, child = context.Pipe(duplex=False)
                process = context.Process(target=_work, args=(child, payload_of(job), job, memory_limit, time_limit,
                                                              os.getpid(), (parent, *running)))
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
                if time.monotonic() - started > time_limit:
                    status, payload, text = "failed", f"time limit of {time_limit:g}s exceeded", None
                on_result(job, status, payload, text)
            for conn, (process, job, started) in list(running.items()):
                if time.monotonic() - started > time_limit:
                    _kill(process)
                    running.pop(conn)
                    conn.close()
                    on_result(job, "failed", f"time limit of {time_limit:g}s exceeded", None)
    finally:
        for process, _, _ in running.values():
            _kill(process)


def extract_versions(
    archive: Archive,
    jobs: list[dict],
    workers: int = 2,
    time_limit: float | None = None,
    memory_limit: int | None = None,
    progress=None,
    fork_per_document: bool | None = None,
) -> ExtractionStats:
    stats = ExtractionStats()
    run_limited(jobs, lambda job: archive.blobs.get(job["sha256"]),
                lambda job, status, payload, text: _save(archive, job, status, payload, text, stats, progress),
                workers=workers, time_limit=time_limit, memory_limit=memory_limit, fork_per_document=fork_per_document)
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
        stats.partial += is_partial(payload)
    else:
        archive.save_extraction(job["id"], None, None, payload, PARSER_VERSION)
        stats.failed += 1
        stats.failures.append({"url": job["url"], "reason": payload})
    if progress:
        progress()


def copy_twins(archive: Archive, jobs: list[dict], stats: ExtractionStats, progress=None) -> list[dict]:
    """Give each job whose payload and inputs were already read by this parser version (any site, any run) a
    copy of that record; return the jobs still to read."""
    done = {}
    for row in archive.extracted_twins({job["sha256"] for job in jobs}, PARSER_VERSION):
        done.setdefault(_content_key(row), row)
    todo = []
    for job in jobs:
        twin = done.get(_content_key(job))
        if twin is None or twin["id"] == job["id"]:
            todo.append(job)
            continue
        _save(archive, job, "ok", _with_url(json.loads(twin["record"]), job["url"]), twin["text"], stats, progress)
        stats.copied += 1
    return todo


def extract_pending(archive: Archive, all_versions: bool = False, workers: int = 2, progress_factory=None,
                    retry_failed: bool = False, fork_per_document: bool | None = None) -> ExtractionStats:
    """Extract what has not been read by this parser version (or, with all_versions, everything), then
    re-choose sources. A payload already read with the same inputs is copied, not read again."""
    jobs = archive.pending_versions(all_versions=all_versions, parser_version=PARSER_VERSION,
                                    retry_failed=retry_failed)
    advance = progress_factory(len(jobs)) if progress_factory else None
    stats = ExtractionStats()
    if not all_versions:
        jobs = copy_twins(archive, jobs, stats, advance)
    done = extract_versions(archive, jobs, workers=workers, progress=advance, fork_per_document=fork_per_document)
    stats.ok += done.ok
    stats.failed += done.failed
    stats.partial += done.partial
    stats.failures += done.failures
    archive.choose_sources()
    record_changes(archive.db)
    return stats
