"""Old Word (.doc) and WPS files, read through a real converter: LibreOffice to DOCX.

antiword and catdoc flatten tables to text; LibreOffice keeps the grid and its
merged cells, so the DOCX reader sees what the agency drew.

Starting LibreOffice costs seconds; converting a report costs a fraction of one. So a
process that reads many documents (an extraction worker) keeps one LibreOffice
listening through unoserver (PyPI; its server runs under the system Python that has
LibreOffice's ``uno`` module, python3-uno) and reuses it for every document. The
interface stays bytes in, bytes out. Starting the listening one costs about four
conversions by a LibreOffice of one's own (5 s against 1.3 s here), and a process
cannot know how many .doc files are coming, so it rents before it buys (the ski-rental
rule: at most about twice the cost of the best choice made knowing the future): its
first ``START_AFTER`` .doc files each get a LibreOffice of their own, the next one
starts the listening LibreOffice in the background and is converted by a LibreOffice
of its own too. A nightly run that meets a few .doc files pays no start-up; a
re-extraction of the archive pays it once per worker. Where unoserver or
python3-uno is missing, or the persistent converter cannot start, each document gets a
LibreOffice of its own, as before.
A conversion over the timeout kills the listening LibreOffice; the next starts afresh.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import xmlrpc.client
from pathlib import Path

from ..document import Document, UnreadableDocument
from .children import guarded, preexec_die_with, run_guarded

CONVERT_TIMEOUT = 120
START_TIMEOUT = 60
START_AFTER = 4  # .doc files a process converts alone before it starts a listening LibreOffice (see above)
PERSISTENT = os.environ.get("NIANBAO_PERSISTENT_CONVERTER", "1") != "0"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@functools.lru_cache(maxsize=1)
def _uno_python() -> str | None:
    """A Python that can import LibreOffice's ``uno`` (Debian: python3-uno for /usr/bin/python3)."""
    candidate = os.environ.get("NIANBAO_UNO_PYTHON") or "/usr/bin/python3"
    if not Path(candidate).exists():
        return None
    probe = subprocess.run([candidate, "-c", "import uno"], capture_output=True, timeout=30,
                           preexec_fn=preexec_die_with(os.getpid()))
    return candidate if probe.returncode == 0 else None


def _whole_cpu_allowance() -> None:
    """A reader's CPU limit is per document; the listening LibreOffice lives across documents, so it must not
    inherit one (the wall-clock timeout still bounds each conversion)."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))


class _Transport(xmlrpc.client.Transport):
    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


class PersistentConverter:
    """One LibreOffice listening behind unoserver, owned by this process, started once the process has met more
    than ``start_after`` .doc files."""

    def __init__(self, start_after: int = START_AFTER):
        self.start_after, self.met = start_after, 0  # documents met while no LibreOffice listened
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.tmp: str | None = None
        self.broken = False  # could not start here: per-document LibreOffice from now on
        self.broken_reason: str | None = None
        self.ready = False

    def _launch(self) -> None:
        import unoserver

        python = _uno_python()
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if not python or not soffice:
            raise OSError("python3-uno or soffice missing")
        self.tmp = tempfile.mkdtemp(prefix="nianbao-unoserver-")
        # the system Python imports unoserver alone from a directory of its own, never the venv's packages
        path = Path(self.tmp) / "lib"
        path.mkdir()
        package = Path(unoserver.__file__).parent
        (path / "unoserver").symlink_to(package)
        for info in package.parent.glob("unoserver-*.dist-info"):  # it reads its own version from there
            (path / info.name).symlink_to(info)
        self.port, uno_port = _free_port(), _free_port()
        command = [python, "-m", "unoserver.server", "--port", str(self.port), "--uno-port", str(uno_port),
                   "--executable", soffice, "--user-installation", str(Path(self.tmp) / "profile"),
                   "--temp-dir", self.tmp, "--quiet"]
        # in this process's group, so whoever kills a stuck reader's group ends its LibreOffice too; under a guard,
        # so LibreOffice's whole tree dies with this process however it dies (children.py)
        self.process = subprocess.Popen(guarded(command), env={**os.environ, "PYTHONPATH": str(path)}, cwd=self.tmp,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        preexec_fn=_whole_cpu_allowance)
        self.ready = False

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OSError(f"unoserver exited with {self.process.returncode}")
            try:
                self._proxy(5).info()
                self.ready = True
                return
            except (OSError, xmlrpc.client.Error):
                time.sleep(0.2)
        raise OSError("unoserver did not start in time")

    def _proxy(self, timeout: float):
        return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{self.port}", allow_none=True,
                                         transport=_Transport(timeout))

    def convert(self, data: bytes, target: str, timeout: float) -> bytes | None:  # target: a key of EXPORT_FILTERS
        """The converted bytes, or None when no persistent converter can run here (the caller falls back)."""
        if self.broken:
            return None
        if self.process is None or self.process.poll() is not None:
            self.met += 1
            if self.met <= self.start_after:
                return None  # too few .doc files yet to be worth a listening LibreOffice
            # it starts in the background; this document gets a LibreOffice of its own meanwhile
            try:
                self.stop()
                self._launch()
            except (OSError, ImportError, subprocess.SubprocessError) as exc:
                self._give_up(exc)
            return None
        if not self.ready:
            try:
                self._wait_ready()
            except (OSError, subprocess.SubprocessError) as exc:
                self._give_up(exc)
                return None
        try:
            result = self._proxy(timeout).convert(None, xmlrpc.client.Binary(data), None, target,
                                                  EXPORT_FILTERS[target], [], False, None, None)
        except TimeoutError as exc:
            self.stop()
            raise UnreadableDocument(f"LibreOffice took longer than {timeout:g}s") from exc
        except xmlrpc.client.Fault as exc:
            raise UnreadableDocument(f"LibreOffice failed: {exc.faultString[-200:]}") from exc
        except (OSError, xmlrpc.client.Error) as exc:  # LibreOffice died under the document
            self.stop()
            raise UnreadableDocument(f"LibreOffice failed: {type(exc).__name__}: {exc}") from exc
        if result is None or not result.data:
            raise UnreadableDocument("LibreOffice could not convert this file")
        return result.data

    def _give_up(self, exc: BaseException) -> None:
        self.stop()
        self.broken, self.broken_reason = True, f"{type(exc).__name__}: {exc}"

    def stop(self) -> None:
        if self.process is not None:
            # unoserver, the oosplash it started and soffice.bin under that: the whole tree, leaves first
            for pid in reversed([self.process.pid, *_descendants(self.process.pid)]):
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self.process.wait(10)
            self.process = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def _descendants(root: int) -> list[int]:
    """Every process under ``root``, parents before children (from /proc: no dependency for this)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


_converter: PersistentConverter | None = None


def _persistent() -> PersistentConverter:
    global _converter
    if _converter is None or getattr(_converter, "pid", None) != os.getpid():
        _converter = PersistentConverter()  # a forked child never shares its parent's LibreOffice
        _converter.pid = os.getpid()
        atexit.register(_converter.stop)
    return _converter


def stop_persistent_converter() -> None:
    if _converter is not None and getattr(_converter, "pid", None) == os.getpid():
        _converter.stop()


# the export filter `soffice --convert-to docx` picks (it says so): the persistent converter uses the same
EXPORT_FILTERS = {"docx": "Office Open XML Text"}


def libreoffice_convert(data: bytes, source_ext: str, target: str, timeout: int = CONVERT_TIMEOUT,
                        persistent: bool = False) -> bytes:
    """Convert a document with LibreOffice headless: with ``persistent``, the one this process keeps
    listening (for targets in EXPORT_FILTERS), else a LibreOffice of its own in a private profile."""
    if persistent and target in EXPORT_FILTERS:
        converted = _persistent().convert(data, target, timeout)
        if converted is not None:
            return converted
    return _convert_once(data, source_ext, target, timeout)


def _convert_once(data: bytes, source_ext: str, target: str, timeout: int) -> bytes:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise UnreadableDocument("LibreOffice (soffice) is not installed: cannot read .doc/.wps")
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        src = Path(tmp) / f"in.{source_ext}"
        src.write_bytes(data)
        command = [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless"]
        command += ["--convert-to", target, "--outdir", tmp, str(src)]
        try:  # soffice starts soffice.bin: under a guard, both die with this process however it dies
            done = run_guarded(command, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise UnreadableDocument(f"LibreOffice took longer than {timeout}s") from exc
        if done.returncode:
            raise UnreadableDocument(f"LibreOffice failed: {done.stderr.decode(errors='replace')[:200]}")
        out = Path(tmp) / f"in.{target.split(':')[0]}"
        if not out.exists() or out.stat().st_size == 0:
            raise UnreadableDocument(f"LibreOffice could not convert this .{source_ext} file")
        return out.read_bytes()


def read_doc(data: bytes) -> Document:
    from .docx import read_docx

    doc = read_docx(libreoffice_convert(data, "doc", "docx", persistent=PERSISTENT))
    doc.format = "doc"
    return doc
