"""Fixity: check the database (SQLite's integrity check), re-hash every blob and every WARC payload, and report
what no longer matches."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from .blobs import NotARegularFile, irregular_entries, open_regular
from .store import DB_NAME, Archive
from .warc import read_payload
from .writer import integrity_problems, is_damage, read_only

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
    """SQLite's integrity check of the database, then every blob and WARC payload re-hashed (as far as a damaged
    database still lists them), then anything in the archive that is not a regular file."""
    problems = [{"kind": "database", "problem": line} for line in integrity_problems(archive.dir)]
    counts = {}
    for name, check in (("blobs", _verify_blobs), ("warc_records", _verify_warcs)):
        try:
            counts[name] = check(archive, problems)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            counts[name] = None
            problems.append({"kind": "database", "problem": f"the {name} table cannot be read: {exc}"})
    for entry in irregular_entries(archive.dir):  # blobs or not: nothing in an archive should point elsewhere
        problems.append({"kind": "file", **entry})
    return {**counts, "problems": problems}


def _verify_blobs(archive: Archive, problems: list) -> int:
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
    return blobs


def _verify_warcs(archive: Archive, problems: list) -> int:
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
    return records


def verify_archive(data_dir) -> dict:
    """verify() for the archive in `data_dir`, even when its database is too damaged to open."""
    try:
        archive = Archive(data_dir)
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        lines = integrity_problems(data_dir) or [str(exc)]
        return {"blobs": None, "warc_records": None, "problems": [{"kind": "database", "problem": line} for line in lines]}
    try:
        return verify(archive)
    finally:
        archive.db.conn.close()
