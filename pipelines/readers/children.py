"""One process model: every process nianbao starts dies with the process that started it, however that one
dies (SIGKILL included), and so does everything those processes start in turn.

- A Python child (the archive's writer, a crawl part, an extraction worker) calls ``die_with_parent`` first
  thing: the kernel sends it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), and it ends itself when the
  parent died before it could ask.
- A program that starts programs of its own (LibreOffice: unoserver starts oosplash, which starts
  soffice.bin, each able to outlive its parent) runs under ``guarded``: a small guard process, the program's
  parent, that the kernel tells when *its* parent dies (SIGTERM), and that every orphan below it is handed to
  (``PR_SET_CHILD_SUBREAPER``); it then kills the whole tree and ends. To stop a guarded program before its
  time, send the guard SIGTERM (``stop_guarded``), never SIGKILL: a guard killed outright cannot kill its tree.
- A single program (tesseract, Datasette) gets ``die_with_parent`` in its ``preexec_fn``.

The guard is this file run by path with ``python -I`` (the standard library only: no package is imported).
Linux only, as the rest of nianbao: elsewhere these calls do nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG, PR_SET_NAME, PR_SET_CHILD_SUBREAPER = 1, 15, 36


def _prctl(option: int, value) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass


def die_with_parent(parent: int | None = None, name: str | None = None, signum: int = signal.SIGKILL) -> None:
    """The kernel sends this process `signum` when its parent (pid `parent`, by default the current one)
    dies; a parent already gone ends this process now. `name` is what top, ps and /proc/PID/comm show."""
    parent = os.getppid() if parent is None else parent
    _prctl(PR_SET_PDEATHSIG, int(signum))
    if name:
        _prctl(PR_SET_NAME, name.encode()[:15])
    if os.getppid() != parent:  # it died before the request above could take effect
        os._exit(1)


def preexec_die_with(parent: int):
    """A ``preexec_fn`` for a program that starts nothing: it dies with `parent` (the process calling Popen)."""
    return lambda: die_with_parent(parent)


def guarded(command: list[str]) -> list[str]:
    """`command` run under a guard that dies with this process and takes everything the command started with it."""
    return [sys.executable, "-I", os.path.abspath(__file__), str(os.getpid()), "--", *map(str, command)]


def stop_guarded(process: subprocess.Popen, timeout: float = 10) -> None:
    """End a guarded program and everything it started (the guard kills its tree on SIGTERM)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:  # a guard that does not answer: the group, as a last resort
            process.kill()
            process.wait()


def run_guarded(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run for a guarded program: on timeout, the guard ends the whole tree before this raises."""
    process = subprocess.Popen(guarded(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_guarded(process)
        process.communicate()
        raise
    except BaseException:
        stop_guarded(process)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


# ---------------------------------------------------------------------- the guard


class _Stop(Exception):
    pass


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _kill_tree() -> None:
    """SIGKILL everything below the guard until nothing is left (orphans come to it: it is their subreaper)."""
    for _ in range(100):
        pids = _descendants(os.getpid())
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        if not pids:
            return
        time.sleep(0.01)  # a moment for the kernel to hand the orphans of what died over to the guard


def _stop(signum, frame):
    raise _Stop


def _guard(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[2:]
    for name in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(name, _stop)
    code = 1
    try:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        die_with_parent(parent, signum=signal.SIGTERM)
        main = subprocess.Popen(command)
        while True:
            pid, status = os.wait()  # the command, or an orphan of its tree handed to the guard
            if pid == main.pid:
                code = os.waitstatus_to_exitcode(status)
                code = 128 - code if code < 0 else code
                break
    except _Stop:
        code = 128 + signal.SIGTERM
    except ChildProcessError:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _kill_tree()
    return code


if __name__ == "__main__":
    sys.exit(_guard(sys.argv[1:]))
