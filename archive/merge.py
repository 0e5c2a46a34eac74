"""Fold shard archives (one per Scrapyd node) into one: blobs, versions, WARCs and fetch log, no duplicates.

Versions are re-stored through the archive's own write path, so a payload two shards
both hold is one blob and, per document, one version; first_seen / last_seen keep
the earliest and latest sighting. WARC files are copied under a shard-prefixed name
and their records re-pointed; the fetch log and runs come along with new ids, the columns' kept list pages as
they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sqlite_utils

from .blobs import irregular_entries
from .store import DB_NAME, Archive


class MergeRefused(ValueError):
    """A shard holding what is not a regular file (a symlink into the system, a device …): nothing is merged."""

_VERSIONS = """
SELECT v.*, d.url, d.role, d.format, d.title AS document_title, d.referer, d.metadata, b.media_type,
       r.year, r.title AS report_title, r.page_url AS report_page_url, a.name AS agency, a.site_id, s.name AS site_name, s.region, s.cms, s.start_urls
FROM versions v JOIN documents d ON d.id = v.document_id JOIN blobs b ON b.sha256 = v.sha256
JOIN reports r ON r.id = d.report_id JOIN agencies a ON a.id = r.agency_id LEFT JOIN sites s ON s.id = a.site_id
ORDER BY v.id
"""


def merge(target: Archive, shard_dir: Path) -> dict:
    shard = Archive(shard_dir)
    label = shard_dir.name
    runs = _copy_runs(target, shard, label)
    versions = 0
    for row in shard.db.query(_VERSIONS):
        site = {"id": row["site_id"], "name": row["site_name"], "region": row["region"], "cms": row["cms"],
                "start_urls": json.loads(row["start_urls"] or "[]")} if row["site_id"] else {}
        if site:
            target.ensure_site(site)
        report_id = target.ensure_report(row["agency"], row["year"], row["report_title"], site,
                                         page_url=row["report_page_url"])
        version_id, new = target.store_payload(
            report_id=report_id, url=row["url"], role=row["role"], data=shard.blobs.get(row["sha256"]),
            media_type=row["media_type"], fmt=row["format"], title=row["document_title"], referer=row["referer"],
            metadata=json.loads(row["metadata"] or "{}"), etag=row["etag"], last_modified=row["last_modified"],
        )
        _keep_sightings(target.db, version_id, row["first_seen"], row["last_seen"])
        versions += new
    warcs = _copy_warcs(target, shard, label, runs)
    list_pages = _copy_list_pages(target, shard)
    return {"shard": label, "new_versions": versions, "warc_files": warcs, "runs": len(runs), "list_pages": list_pages}


def _keep_sightings(db: sqlite_utils.Database, version_id: int, first: str, last: str) -> None:
    with db.conn:
        db.execute("UPDATE versions SET first_seen = min(first_seen, ?), last_seen = max(last_seen, ?) WHERE id = ?",
                   [first, last, version_id])
        db.execute("UPDATE documents SET first_seen = min(first_seen, ?), last_seen = max(last_seen, ?) "
                   "WHERE id = (SELECT document_id FROM versions WHERE id = ?)", [first, last, version_id])


def _copy_runs(target: Archive, shard: Archive, label: str) -> dict[int, int]:
    mapping = {}
    with target.db.conn:
        for run in shard.db["runs"].rows:
            old = run.pop("id")
            run["command"] = f"{run['command']} ({label})"
            mapping[old] = target.db["runs"].insert(run).last_pk
        for fetch in shard.db["fetches"].rows:
            fetch.pop("id")
            fetch["run_id"] = mapping.get(fetch["run_id"])
            target.db["fetches"].insert(fetch)
    return mapping


def _copy_warcs(target: Archive, shard: Archive, label: str, runs: dict[int, int]) -> int:
    folder = target.dir / "warcs"
    folder.mkdir(exist_ok=True)
    copied = 0
    for path in sorted((shard.dir / "warcs").glob("*.warc.gz")):
        name = f"{label}-{path.name}"
        if (folder / name).exists():
            continue  # merged before: the same file, not a second copy
        shutil.copyfile(path, folder / f".{name}.part")
        with target.db.conn:
            for record in shard.db["warc_records"].rows_where("filename = ?", [path.name]):
                record.pop("id")
                record.update({"filename": name, "run_id": runs.get(record["run_id"])})
                target.db["warc_records"].insert(record)
            (folder / f".{name}.part").rename(folder / name)
        copied += 1
    return copied


def _copy_list_pages(target: Archive, shard: Archive) -> int:
    """The columns' list pages as the shard last read them (their bytes are what its WARC records hold); the later
    sighting wins where two shards read one page."""
    copied = 0
    query = "SELECT l.*, b.size, b.media_type AS blob_media_type FROM list_pages l JOIN blobs b ON b.sha256 = l.sha256"
    for row in shard.db.query(query):
        try:
            body = shard.blobs.get(row["sha256"])
        except OSError:
            continue  # lost in the shard: the next crawl asks for the page in full
        if target.blobs.put(body) != row["sha256"]:
            continue  # not the bytes the shard's row names: left for the next crawl to ask in full
        size, blob_media_type = row.pop("size"), row.pop("blob_media_type")
        kept = target.list_page(row["url"])
        with target.db.conn:
            target.db.execute("INSERT OR IGNORE INTO blobs (sha256, size, media_type, first_url, stored_at) "
                              "VALUES (?, ?, ?, ?, ?)", [row["sha256"], size, blob_media_type, row["url"],
                                                         row["first_seen"]])
            if kept is None or kept["last_seen"] < row["last_seen"]:
                target.db["list_pages"].upsert(row, pk="url")
        copied += 1
    return copied


def shard_dirs(paths) -> list[Path]:
    """The shards to merge, each checked before anything is merged: an archive, of regular files only."""
    dirs = [Path(p) for p in paths]
    missing = [str(p) for p in dirs if not (p / DB_NAME).is_file() or (p / DB_NAME).is_symlink()]
    if missing:
        raise FileNotFoundError(f"not shard archives (no {DB_NAME}): {', '.join(missing)}")
    irregular = [f"{p / e['path']} ({e['problem']})" for p in dirs for e in irregular_entries(p)]
    if irregular:
        raise MergeRefused("refusing to merge: not regular files inside the shards: " + "; ".join(irregular))
    return dirs
