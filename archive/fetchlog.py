"""The fetch log: one row per request the crawl made, whatever came of it. Table owned: fetches.

A mixin of :class:`archive.store.Archive`. While writes are grouped (a crawl), the group's rows are inserted
together when the group commits.
"""

from __future__ import annotations

from .writer import now


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
