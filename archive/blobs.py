"""Content-addressed payload store: every payload once, by its sha256, never by its URL."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from warcio.utils import Digester


class NotARegularFile(OSError):
    """Something inside the archive that is a symbolic link, a device, a FIFO … where a file was expected."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def regular_file(path: Path, root: Path) -> Path:
    """``path`` if it lies under ``root`` and neither it nor any directory between them is a symbolic link or
    anything else than a plain directory / regular file; else NotARegularFile. For every reader of blobs
    (merge, verify, the site's /-/blob/ download), so the archive can never be made to hand out /etc/passwd."""
    path, root = Path(path), Path(root)
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise NotARegularFile(f"{path} is outside {root}") from None
    current = root
    for n, part in enumerate(relative.parts):
        current = current / part
        mode = os.lstat(current).st_mode  # FileNotFoundError for what is missing
        last = n == len(relative.parts) - 1
        if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) if last else stat.S_ISDIR(mode)):
            raise NotARegularFile(f"{current} is {_kind(mode)}, not a regular file of the archive")
    return path


def open_regular(path: Path, root: Path):
    """Open a file checked by regular_file, refusing a symlink swapped in meanwhile (O_NOFOLLOW, fstat)."""
    regular_file(path, root)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == 40:  # ELOOP: it became a symlink after the check
            raise NotARegularFile(f"{path} is a symbolic link, not a regular file of the archive") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotARegularFile(f"{path} is not a regular file of the archive")
    return os.fdopen(fd, "rb")


def irregular_entries(root: Path) -> list[dict]:
    """Everything under ``root`` that is neither a directory nor a regular file (symlinks included, never
    followed), as verify and merge report them."""
    root = Path(root)
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            entry = Path(folder) / name
            mode = os.lstat(entry).st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                continue
            row = {"path": str(entry.relative_to(root)), "problem": _kind(mode)}
            if stat.S_ISLNK(mode):
                row["problem"] += f" to {os.readlink(entry)}"
            found.append(row)
    return found


@dataclass(frozen=True)
class SpooledPayload:
    """A payload already on disk (streamed there as it arrived), with the digests taken on the way."""

    path: str
    size: int
    sha256: str
    warc_digest: str  # WARC-Payload-Digest: sha1, base32, as warcio writes it

    def as_dict(self) -> dict:
        return asdict(self)


class PayloadWriter:
    """Writes a payload to a spool file chunk by chunk, hashing as it goes, so no whole body is held in memory."""

    def __init__(self, spool_dir: Path):
        Path(spool_dir).mkdir(parents=True, exist_ok=True)
        fd, self.path = tempfile.mkstemp(dir=spool_dir, prefix="body-")
        self.handle = os.fdopen(fd, "wb")
        self.size, self._sha256, self._sha1 = 0, hashlib.sha256(), Digester("sha1")  # warcio's WARC digest

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.size += len(data)
        self._sha256.update(data)
        self._sha1.update(data)

    def close(self) -> SpooledPayload:
        self.handle.close()
        return SpooledPayload(self.path, self.size, self._sha256.hexdigest(), str(self._sha1))

    def discard(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass  # the disk that refused the data may refuse the flush too; the file goes anyway
        Path(self.path).unlink(missing_ok=True)


def _complete(target: Path, size: int) -> bool:
    """Already stored: a blob whose size differs is the remains of a power cut before its group was synced
    (no row points at it), and is written again."""
    try:
        return target.stat().st_size == size
    except FileNotFoundError:
        return False


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, data: bytes, sync: bool = True) -> str:
        """Store bytes (atomically: temp file, fsync, rename) and return their sha256. ``sync=False``: the caller
        syncs the file (and its directory) itself before any row points at it (a group of writes)."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if _complete(target, len(data)):
            return sha256
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        except FileNotFoundError:  # its folder is made when first needed, not asked for on every put
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def put_spooled(self, payload: SpooledPayload, sync: bool = True) -> str:
        """Move a spooled payload into the store (fsync, then rename: it never passes through memory)."""
        target = self.path(payload.sha256)
        source = Path(payload.path)
        if _complete(target, payload.size):
            source.unlink(missing_ok=True)
            return payload.sha256
        if sync:
            with open(source, "rb") as handle:
                os.fsync(handle.fileno())
        try:
            os.replace(source, target)  # the spool lives in the archive directory: same file system
        except FileNotFoundError:
            if not source.exists():
                raise
            target.parent.mkdir(parents=True, exist_ok=True)  # its folder, made when first needed
            os.replace(source, target)
        return payload.sha256

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; NotARegularFile if what lies at its path is a symlink or anything but a file."""
        with open_regular(self.path(sha256), self.root) as handle:
            return handle.read()
