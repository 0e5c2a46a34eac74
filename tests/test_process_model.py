"""One process model: whatever kills a nianbao command (SIGKILL included), nothing it started lives on: not the
writer, not a crawl part, not an extraction worker, not LibreOffice nor what LibreOffice started.

Each run carries a mark in its environment, which every process below it inherits; after the kill, /proc is
walked for any live process with that mark, wherever it was re-parented.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import FAST, ROOT, SAMPLE_SITES, copy_archive

MARK = "NIANBAO_PROCESS_MODEL_TEST"
SAMPLE_DOC = next((ROOT / "sampleportal" / "site").rglob("*.doc"))


def _proc(pid: int, name: str) -> str:
    try:
        return (Path("/proc") / str(pid) / name).read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    stat = _proc(pid, "stat")
    return bool(stat) and stat.rsplit(")", 1)[1].split()[0] != "Z"


def marked(mark: str) -> dict[int, str]:
    """Live processes carrying the mark: pid -> name and command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if f"{MARK}={mark}" in _proc(pid, "environ").split("\0") and _alive(pid):
            found[pid] = f"{_proc(pid, 'comm').strip()}: {_proc(pid, 'cmdline').replace(chr(0), ' ')[:160]}"
    return found


def _names(mark: str) -> list[str]:
    return [line.split(":", 1)[0] for line in marked(mark).values()]


def kill_at(args: list, point, describe: str, timeout: float = 240) -> None:
    """Start `nianbao ARGS`, SIGKILL it once `point(mark, its pid)` holds, and require that nothing of it is left 5 s on."""
    mark = uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(ROOT), MARK: mark}
    command = subprocess.Popen([sys.executable, "-m", "nianbao.cli", *map(str, args)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while not point(mark, command.pid):
            assert command.poll() is None, f"the command ended before {describe}"
            assert time.monotonic() < deadline, f"never reached {describe}"
            time.sleep(0.05)
        before = marked(mark)
        os.kill(command.pid, signal.SIGKILL)
        command.wait()
        deadline = time.monotonic() + 5
        while marked(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = marked(mark)
        assert not left, f"killed {describe} ({len(before)} processes), still alive 5 s later: {left}"
    finally:
        for pid in marked(mark):  # never leave a test's leftovers to the next one
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _has(*prefixes: str):
    return lambda mark, pid: any(name.startswith(prefixes) for name in _names(mark))


def _warc_written(data: Path):
    return lambda mark, pid: any((data / "warcs").glob("*.warc.gz")) and _has("nianbao-crawl")(mark, pid)


def _forked_workers(mark: str, pid: int) -> bool:
    """Extraction workers are forks of the command: the same command line, another process."""
    return any(other != pid and _proc(other, "cmdline") == _proc(pid, "cmdline") for other in marked(mark))


POINTS = {
    "parts starting": lambda data: _has("nianbao-crawl"),
    "mid-crawl (writer writing)": _warc_written,
    "extraction workers reading": lambda data: _forked_workers,
    "LibreOffice converting the .doc": lambda data: _has("soffice", "oosplash"),
}


@pytest.mark.parametrize("point", list(POINTS))
def test_sigkill_of_a_two_process_crawl_leaves_no_process(portal, tmp_path, point):
    data = tmp_path / "d"
    kill_at(["crawl", "--sites", SAMPLE_SITES, "--portal-url", portal.url, "--data", data, "--processes", "2",
             *FAST, "-s", "DOWNLOAD_DELAY=0.05"], POINTS[point](data), point)


@pytest.fixture(scope="module")
def archive_copy(crawled, tmp_path_factory):
    def copy() -> Path:
        data = tmp_path_factory.mktemp("reextract") / "d"
        copy_archive(crawled["data"], data)
        return data
    return copy


@pytest.mark.parametrize("point", ["extraction workers reading", "LibreOffice converting the .doc"])
def test_sigkill_of_reextract_leaves_no_process(archive_copy, point):
    kill_at(["reextract", "--all", "--workers", "2", "--data", archive_copy()], POINTS[point](None), point)


CONVERTING = """
import sys, time
from pipelines.readers import doc
converter = doc.PersistentConverter(start_after=0)
data = open(sys.argv[1], "rb").read()
converter.convert(data, "docx", 120)  # starts unoserver in the background
if converter.broken:
    print("broken", converter.broken_reason, flush=True)
    sys.exit(0)
converter.convert(data, "docx", 120)
print("listening", flush=True)
time.sleep(600)
"""


def test_sigkill_of_a_process_whose_libreoffice_listens_leaves_none_of_its_tree(tmp_path):
    """unoserver, the oosplash it starts and the soffice.bin under that: each could outlive its parent."""
    mark = uuid.uuid4().hex
    child = subprocess.Popen([sys.executable, "-c", CONVERTING, str(SAMPLE_DOC)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT), MARK: mark}, cwd=ROOT)
    try:
        state = child.stdout.readline().split()
        if state[:1] == ["broken"]:
            pytest.skip(f"no listening LibreOffice here: {state}")
        assert state == ["listening"]
        names = _names(mark)
        assert any(n.startswith("soffice") for n in names), names
        child.kill()
        child.wait()
        deadline = time.monotonic() + 5
        while marked(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not marked(mark)
    finally:
        for pid in marked(mark):
            os.kill(pid, signal.SIGKILL)


def test_forked_workers_hold_no_pipe_end_of_a_sibling():
    """Each worker holds its own end of its own pipe and nothing else of the pool: a sibling's EOF is never
    kept from coming by another worker's copy of it."""
    from archive.extraction import WorkerPool

    pool = WorkerPool(3, time_limit=30, memory_limit=2 * 1024**3)
    for _ in range(3):
        pool.idle.append(pool._spawn())  # as the pool keeps the workers it started, idle until a document comes
    workers = list(pool.idle)
    try:
        time.sleep(1)  # each has closed what it inherited
        ends = {}  # the parent's end of each pipe, as the kernel names it (socket:[inode])
        for worker in workers:
            ends[worker.process.pid] = os.readlink(f"/proc/self/fd/{worker.conn.fileno()}")
        for worker in workers:
            held = set()
            for fd in os.listdir(f"/proc/{worker.process.pid}/fd"):
                try:
                    held.add(os.readlink(f"/proc/{worker.process.pid}/fd/{fd}"))
                except OSError:
                    pass
            assert not held & set(ends.values()), f"worker {worker.process.pid} holds a parent's end of a pipe"
    finally:
        pool.close()
