"""The fetch log: one row per request the crawl made, whatever came of it. Table owned: fetches.

A mixin of :class:`archive.store.Archive`. While writes are grouped (a crawl), the group's rows are inserted
together when the group commits.
"""

from __future__ import annotations

import json

from .schema import RETRYABLE
from .writer import now

# an answer that gave the page: 200, or 304 for the copy the archive holds (a redirect is not the page)
ANSWERED = "outcome IN ('fetched', 'not_modified') AND status IN (200, 304)"


class FetchLog:
    def log_fetch(self, **row) -> None:
        row.setdefault("fetched_at", now())
        if self._batch is not None:  # grouped: the group's fetch-log rows go in with one insert at its commit
            self._batch.fetches.append(row)
            self._batch.writes += 1
            if self._batch.due():
                self.flush_writes()
            return
        with self._write():
            self._insert("fetches", row)

    def fetched_by_interrupted_run(self) -> set[str]:
        """URLs the last run fetched, and archived, before it was killed (its row still says running)."""
        run = self.interrupted_run()
        if run is None:
            return set()
        return {url for (url,) in self.db.execute(
            "SELECT f.url FROM fetches f JOIN documents d ON d.url = f.url WHERE f.run_id = ? "
            "AND f.outcome IN ('fetched', 'not_modified')", [run])}

    def last_visit(self, url: str) -> dict | None:
        """The last time a page (a report's article) was answered, for a nightly run deciding whether to ask for it
        again: ``run_id`` of that answer; ``retry``, whether the page or a file it links failed since (a retryable
        outcome) and no later request made it good; and the ``title`` and ``metadata`` of the document the archive
        keeps for it (None for a page that was no report). None when the page never answered. Indexed reads only:
        fetches(url), and the partial index of retryable failures by the page that linked them."""
        last = self._one(f"SELECT id, run_id FROM fetches WHERE url = ? AND {ANSWERED} ORDER BY id DESC LIMIT 1",
                         [url])
        if last is None:
            return None
        retry = (self._one(f"SELECT 1 AS failed FROM fetches WHERE url = ? AND id > ? AND {RETRYABLE} LIMIT 1",
                           [url, last["id"]]) is not None
                 or self._one(f"SELECT 1 AS failed FROM fetches f WHERE referer = ? AND {RETRYABLE} AND id > ? "
                              "AND NOT EXISTS (SELECT 1 FROM fetches s WHERE s.url = f.url AND s.id > f.id "
                              "AND s.outcome IN ('fetched', 'not_modified')) LIMIT 1", [url, last["id"]]) is not None)
        document = self._one("SELECT title, metadata FROM documents WHERE url = ?", [url]) or {}
        metadata = document.get("metadata")
        return {"run_id": last["run_id"], "retry": retry, "title": document.get("title"),
                "metadata": json.loads(metadata) if metadata else None}

    def run_complete(self, run_id: int) -> bool:
        """A run that finished by itself, so every request it queued was made: not killed, stopped by a signal,
        failed, closed early (Scrapy's finish_reason) or cut at the requests-per-run bound."""
        row = self._one("SELECT status, json_extract(stats, '$.finish_reason') AS reason, "
                        "json_extract(stats, '$.\"nianbao/bound/requests_per_run\"') AS bound FROM runs "
                        "WHERE id = ? AND json_valid(stats)", [run_id])
        if row is None or row["status"] != "finished" or row["bound"]:
            return False
        # a run of several processes joins their reasons, one a line (nianbao/crawling.py)
        return all(reason == "finished" for reason in str(row["reason"] or "finished").split("\n"))
