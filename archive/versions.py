"""How many versions a report's contents have had: one definition for the export, the site's pages,
its JSON API and its feeds.

A report is what its documents hold (the page and its attachments). It has one version until one of
them changes: each later version of any of its documents adds one. A page and a PDF that never
changed are one version, not two, and a report is "revised" exactly when this count is above 1.

A document's current version is the one seen last, not the one stored last: content that goes A, B, then A
again makes A current again (no new version is stored for it, only its ``last_seen`` moves), so A's
validators, body, figures and search text are what the archive serves. Every query that needs "the current
version" takes it from ``current_version_sql``.
"""

from __future__ import annotations


def report_versions_sql(report_id: str = "r.id") -> str:
    """A SQL expression: the number of versions of the contents of the report whose id is `report_id`."""
    return ("(1 + (SELECT count(*) - count(DISTINCT v.document_id) FROM versions v "
            f"JOIN documents d ON d.id = v.document_id WHERE d.report_id = {report_id}))")


def report_versions(conn, report_id: int) -> int:
    """The count for one report (`conn`: a sqlite3 connection or a sqlite-utils database)."""
    return conn.execute(f"SELECT {report_versions_sql('?')}", [report_id]).fetchone()[0]


# seen last; of versions seen in the same second, the one stored last
CURRENT_ORDER = "last_seen DESC, id DESC"


def current_version_sql(document_id: str = "d.id", where: str = "") -> str:
    """A SQL expression: the id of the current version of the document whose id is `document_id`, among the
    versions that also satisfy `where` (a condition on the alias ``cv``, e.g. ``cv.extract_status = 'ok'``)."""
    condition = f" AND {where}" if where else ""
    return (f"(SELECT cv.id FROM versions cv WHERE cv.document_id = {document_id}{condition} "
            f"ORDER BY cv.{CURRENT_ORDER.replace(', ', ', cv.')} LIMIT 1)")
