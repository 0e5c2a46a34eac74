"""Content-addressed payload store: every payload once, by its sha256, never by its URL."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path


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
        self.size, self._sha256, self._sha1 = 0, hashlib.sha256(), hashlib.sha1()

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.size += len(data)
        self._sha256.update(data)
        self._sha1.update(data)

    def close(self) -> SpooledPayload:
        self.handle.close()
        return SpooledPayload(self.path, self.size, self._sha256.hexdigest(),
                              "sha1:" + base64.b32encode(self._sha1.digest()).decode("ascii"))

    def discard(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass  # the disk that refused the data may refuse the flush too; the file goes anyway
        Path(self.path).unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, data: bytes) -> str:
        """Store bytes (atomically: temp file, fsync, rename) and return their sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def put_spooled(self, payload: SpooledPayload) -> str:
        """Move a spooled payload into the store (fsync, then rename: it never passes through memory)."""
        target = self.path(payload.sha256)
        source = Path(payload.path)
        if target.exists():
            source.unlink(missing_ok=True)
            return payload.sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(source, target)  # the spool lives in the archive directory: same file system
        return payload.sha256

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
