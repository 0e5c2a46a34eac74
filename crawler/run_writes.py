"""What the archive's writer process does for a crawl's run (crawler/writer.py): start it, write its fetch-log rows,
end it, and keep each document the item pipeline hands over (crawler/item_pipelines/archive_payload.py).
Free of Scrapy, so that the writer process, which imports what it is sent, starts without it (Scrapy's
import was half of the writer's start-up, which a small crawl waited for before its first request)."""

from __future__ import annotations

import hashlib

from archive.blobs import SpooledPayload
from archive.store import Archive, now
from archive.warc import Exchange

from .writer import import_for_end_run


def _start_run(archive: Archive, command: str, site_ids: list[str], group: int, group_seconds: float,
               sites: list[dict]):
    resume = archive.fetched_by_interrupted_run()
    run_id = archive.start_run(command, site_ids)
    if group > 1:  # 1 or 0: every write synced and committed alone (the old way; the benchmark's baseline)
        archive.group_writes(group, group_seconds)
    archive.open_warc(run_id)
    for site in sites:
        archive.ensure_site(site)
    import_for_end_run()
    return resume, run_id, archive.spool_dir()


def end_run(archive: Archive, run_id: int, status: str, stats: dict, site_ids: list[str]) -> dict:
    """The end of a run, in the writer: its summary per site (run_sites, runs.summary), the sites that yielded
    reports before and none now, the CDXJ index of the WARC files, then the run's status and stats. Returns what
    it adds to the stats: ``nianbao/gone_quiet`` (site ids, one a line) and ``nianbao/reports_in_archive``."""
    from archive.runs import report_count
    from archive.warc import write_cdxj
    from nianbao.summary import gone_quiet, per_site, record_run

    archive.flush_writes()
    quiet = gone_quiet(archive, site_ids, per_site(stats), run_id)
    ended = {"nianbao/gone_quiet": "\n".join(quiet), "nianbao/reports_in_archive": report_count(archive)}
    record_run(archive, run_id, stats, gone_quiet=quiet)
    try:
        write_cdxj(archive.dir / "warcs")  # while the run still holds the archive
    except (OSError, ValueError) as exc:  # an index can be made again from the WARCs; the run still ends
        ended["nianbao/warnings"] = "\n".join(filter(None, [stats.get("nianbao/warnings"),
                                                             f"the CDXJ index was not written: {exc}"]))
    archive.finish_run(run_id, status, {**stats, **ended})
    return ended


def _log_fetches(archive: Archive, rows: list[dict]) -> None:
    for row in rows:
        archive.log_fetch(**row)


def _page_sha256(item) -> str | None:
    """The article page's content, which makes its claim: a page found again at another address is the same claim."""
    if item["role"] != "page":
        return None
    if item.get("spooled"):
        return item["spooled"]["sha256"]
    return hashlib.sha256(item["body"]).hexdigest() if item.get("body") is not None else None


def _keep(archive, item) -> bool:
    """In the writer process: the item's report, then its payload (or a 304's sighting); whether it is new."""
    if item["role"] == "list":
        return _keep_list_page(archive, item)
    report = item["report"]
    # a document already archived stays with its report, whatever this fetch's title says
    # the article page claims the identity (an attachment's page is its referer): two articles claiming one
    # (agency, year) stay two reports
    page_url = item["url"] if item["role"] == "page" else item.get("referer")
    report_id = (archive.report_of_url(item["url"])
                 or (page_url != item["url"] and page_url and archive.report_of_url(page_url))
                 or archive.ensure_report(report["agency"], report["year"], report["title"], item["site"],
                                          page_url=page_url, sha256=_page_sha256(item)))
    if item.get("unchanged"):
        archive.touch_unchanged(item["url"], Exchange.from_dict(item.get("http")))
        return False
    _, is_new = archive.store_payload(
        report_id=report_id,
        url=item["url"],
        role=item["role"],
        data=SpooledPayload(**item["spooled"]) if item.get("spooled") else item["body"],
        media_type=item.get("media_type"),
        fmt=item.get("format"),
        title=report["title"],
        referer=item.get("referer"),
        metadata={**item.get("metadata", {}), "published": item.get("published")},
        etag=item.get("etag"),
        last_modified=item.get("last_modified"),
        exchange=Exchange.from_dict(item.get("http")),
    )
    return is_new


def _keep_list_page(archive, item) -> bool:
    """A column's list page, kept for the next night's conditional request; whether its bytes changed."""
    exchange = Exchange.from_dict(item.get("http"))
    if item.get("unchanged"):
        archive.list_page_unchanged(item["url"], exchange, now())
        return False
    return archive.keep_list_page(url=item["url"], site_id=item["site"]["id"], body=item["body"],
                                  media_type=item.get("media_type"), charset=item.get("charset"),
                                  etag=item.get("etag"), last_modified=item.get("last_modified"),
                                  exchange=exchange, seen=now())
