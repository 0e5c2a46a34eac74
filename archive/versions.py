"""How many versions a report's contents have had: one definition for the export, the site's pages,
its JSON API and its feeds.

A report is what its documents hold (the page and its attachments). It has one version until one of
them changes: each later version of any of its documents adds one. A page and a PDF that never
changed are one version, not two, and a report is "revised" exactly when this count is above 1.
"""

from __future__ import annotations


def report_versions_sql(report_id: str = "r.id") -> str:
    """A SQL expression: the number of versions of the contents of the report whose id is `report_id`."""
    return ("(1 + (SELECT count(*) - count(DISTINCT v.document_id) FROM versions v "
            f"JOIN documents d ON d.id = v.document_id WHERE d.report_id = {report_id}))")


def report_versions(conn, report_id: int) -> int:
    """The count for one report (`conn`: a sqlite3 connection or a sqlite-utils database)."""
    return conn.execute(f"SELECT {report_versions_sql('?')}", [report_id]).fetchone()[0]
