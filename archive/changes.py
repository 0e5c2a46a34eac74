"""What a new version of a document changed: cells (old and new values) and a text diff."""

from __future__ import annotations

import difflib

MAX_DIFF = 20_000


def _cells(db, version_id: int) -> dict:
    return {
        (r["report_table"], r["row_key"], r["column_key"]): r["raw"]
        for r in db.query("SELECT report_table, row_key, column_key, raw FROM cells WHERE version_id = ?", [version_id])
    }


def _text_diff(old: str | None, new: str | None) -> str:
    lines = difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), "previous", "this", n=1, lineterm="")
    return "\n".join(lines)[:MAX_DIFF]


def record_changes(db) -> int:
    """Compare every extracted version with its document's previous one, once."""
    pending = list(db.query(
        "SELECT v.id, v.document_id, v.text FROM versions v WHERE v.extract_status IN ('ok', 'partial') "
        "AND v.id NOT IN (SELECT version_id FROM version_changes) ORDER BY v.id"))
    done = 0
    for version in pending:
        previous = list(db.query(
            "SELECT id, text FROM versions WHERE document_id = ? AND id < ? AND extract_status IN ('ok', 'partial') "
            "ORDER BY id DESC LIMIT 1", [version["document_id"], version["id"]]))
        if not previous:
            continue
        before, after = _cells(db, previous[0]["id"]), _cells(db, version["id"])
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        with db.conn:
            db["cell_changes"].insert_all(
                {"version_id": version["id"], "report_table": t, "row_key": r, "column_key": c,
                 "old": before.get((t, r, c)), "new": after.get((t, r, c))}
                for t, r, c in changed
            )
            db["version_changes"].insert({
                "version_id": version["id"], "previous_version_id": previous[0]["id"],
                "cells_changed": len(changed), "text_diff": _text_diff(previous[0]["text"], version["text"]),
            })
        done += 1
    return done
