"""Fixity: re-hash every blob and every WARC payload and report what no longer matches."""

from __future__ import annotations

import hashlib

from .store import Archive
from .warc import read_payload


def _sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(archive: Archive) -> dict:
    problems = []
    blobs = 0
    for row in archive.db.query("SELECT sha256, size FROM blobs"):
        blobs += 1
        path = archive.blobs.path(row["sha256"])
        if not path.exists():
            problems.append({"kind": "blob", "sha256": row["sha256"], "problem": "missing"})
        elif _sha256_file(path) != row["sha256"]:
            problems.append({"kind": "blob", "sha256": row["sha256"], "problem": "content does not match its sha256"})
    records = 0
    for row in archive.db.query("SELECT * FROM warc_records WHERE record_type = 'response'"):
        records += 1
        path = archive.dir / "warcs" / row["filename"]
        try:
            _, payload = read_payload(path, row["offset"])
        except Exception as exc:  # a truncated or overwritten file
            problems.append({"kind": "warc", "record": row["record_id"], "problem": f"unreadable: {exc}"})
            continue
        if hashlib.sha256(payload).hexdigest() != row["payload_sha256"]:
            problems.append({"kind": "warc", "record": row["record_id"], "file": row["filename"],
                             "problem": "payload does not match its sha256"})
    return {"blobs": blobs, "warc_records": records, "problems": problems}
