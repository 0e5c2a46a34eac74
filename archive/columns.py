"""The 年报 columns discovery found on each portal, and each walk of a portal's navigation.

A column is keyed by its URL. A rediscovery that no longer finds a column flags it
``vanished`` (with the date) and keeps the row: its reports stay in the archive, and a
person can see that the portal was rebuilt. A column found again is ``active`` again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from .store import Archive, now

ACTIVE, VANISHED = "active", "vanished"


def record_found(archive: Archive, site_id: str, column: dict, run_id: int | None) -> None:
    """Upsert one column found by discovery: first_seen stays, last_seen moves, a vanished one returns."""
    db = archive.db
    seen = now()
    row = {"site_id": site_id, "url": column["url"], "title": column.get("title"), "agency": column.get("agency"),
           "link_path": json.dumps(column.get("link_path", []), ensure_ascii=False),
           "evidence": json.dumps(column.get("evidence", {}), ensure_ascii=False),
           "status": ACTIVE, "last_seen": seen, "vanished_since": None, "run_id": run_id}
    with db.conn:
        existing = db.execute("SELECT id FROM columns WHERE url = ?", [column["url"]]).fetchone()
        if existing:
            db["columns"].update(existing[0], row)
        else:
            db["columns"].insert({**row, "first_seen": seen, "reports_found": 0})


def flag_vanished(archive: Archive, site_id: str, found_urls: set[str]) -> list[str]:
    """Columns of the site that a complete rediscovery did not find again: flagged, never deleted."""
    db = archive.db
    gone = [url for (url,) in db.execute(
        "SELECT url FROM columns WHERE site_id = ? AND status = ?", [site_id, ACTIVE]).fetchall()
        if url not in found_urls]
    with db.conn:
        for url in gone:
            db.execute("UPDATE columns SET status = ?, vanished_since = ? WHERE url = ?", [VANISHED, now(), url])
    return gone


def add_reports(archive: Archive, counts: dict[str, int]) -> None:
    """Reports listed in each column by this run (the column's latest count)."""
    with archive.db.conn:
        for url, count in counts.items():
            archive.db.execute("UPDATE columns SET reports_found = ? WHERE url = ?", [count, url])


def known(archive: Archive, site_id: str) -> list[dict]:
    """The site's active columns, for a nightly run that does not rediscover."""
    rows = archive.db.execute(
        "SELECT url, title, agency FROM columns WHERE site_id = ? AND status = ? ORDER BY id", [site_id, ACTIVE])
    return [{"url": u, "title": t, "agency": a} for u, t, a in rows.fetchall()]


def last_discovery(archive: Archive, site_id: str) -> dict | None:
    rows = list(archive.db.query(
        "SELECT * FROM discoveries WHERE site_id = ? AND finished IS NOT NULL ORDER BY id DESC LIMIT 1", [site_id]))
    return rows[0] if rows else None


def due(archive: Archive, site_id: str, every_days: float, at: datetime | None = None) -> bool:
    """Rediscover when the site was never walked, its last walk found nothing, or it is older than the schedule."""
    last = last_discovery(archive, site_id)
    if last is None or not last["columns_found"]:
        return True
    finished = datetime.fromisoformat(last["finished"])
    return (at or datetime.now(UTC)) - finished >= timedelta(days=every_days)


def record_discovery(archive: Archive, site_id: str, run_id: int | None, started: str, pages: int,
                     columns_found: int, outcome: str, detail: str | None) -> None:
    with archive.db.conn:
        archive.db["discoveries"].insert({
            "site_id": site_id, "run_id": run_id, "started": started, "finished": now(), "pages": pages,
            "columns_found": columns_found, "outcome": outcome, "detail": detail})
