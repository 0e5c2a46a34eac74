"""Fixity: re-hash every blob and every WARC payload and report what no longer matches."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from .blobs import NotARegularFile, irregular_entries, open_regular
from .store import DB_NAME, Archive
from .warc import read_payload
from .writer import read_only

ARCHIVE_TABLES = {"blobs", "versions", "documents", "warc_records"}


def is_archive(data: Path) -> bool:
    """A directory holding nianbao.db with the archive's tables; opened read-only, nothing is created."""
    path = Path(data) / DB_NAME
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with read_only(data) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return False
    return ARCHIVE_TABLES <= tables


def _sha256_file(path, root) -> str:
    digest = hashlib.sha256()
    with open_regular(path, root) as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(archive: Archive) -> dict:
    problems = []
    blobs = 0
    for row in archive.db.query("SELECT sha256, size FROM blobs"):
        blobs += 1
        path = archive.blobs.path(row["sha256"])
        try:
            if _sha256_file(path, archive.dir) != row["sha256"]:
                problems.append({"kind": "blob", "sha256": row["sha256"], "problem": "content does not match its sha256"})
        except FileNotFoundError:
            problems.append({"kind": "blob", "sha256": row["sha256"], "problem": "missing"})
        except NotARegularFile as exc:
            problems.append({"kind": "blob", "sha256": row["sha256"], "problem": str(exc)})
    records = 0
    for row in archive.db.query("SELECT * FROM warc_records WHERE record_type = 'response'"):
        records += 1
        path = archive.dir / "warcs" / row["filename"]
        try:
            open_regular(path, archive.dir).close()
            _, payload = read_payload(path, row["offset"])
        except Exception as exc:  # a truncated or overwritten file
            problems.append({"kind": "warc", "record": row["record_id"], "problem": f"unreadable: {exc}"})
            continue
        if hashlib.sha256(payload).hexdigest() != row["payload_sha256"]:
            problems.append({"kind": "warc", "record": row["record_id"], "file": row["filename"],
                             "problem": "payload does not match its sha256"})
    for entry in irregular_entries(archive.dir):  # blobs or not: nothing in an archive should point elsewhere
        problems.append({"kind": "file", **entry})
    return {"blobs": blobs, "warc_records": records, "problems": problems}
