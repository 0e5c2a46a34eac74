"""``nianbao sites``: the registry counted by province and level, and which sites a crawl verified."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

LEVELS = ("province", "city", "county", "column")  # column: a hand-written start_urls entry without a level


def level_of(site) -> str:
    return site.level or ("column" if site.start_urls and not site.portal else "county" if site.region and
                          site.region.count("/") >= 2 else "city" if site.region and "/" in site.region else "province")


def verified_ids(data: Path) -> set[str]:
    """Sites on which a crawl found a report (its agencies hold a report, or one of its columns listed one)."""
    from archive.documents import verified_sites

    return verified_sites(data)


def counts_table(sites: list, verified: set[str]) -> str:
    by_province: dict[str, Counter] = defaultdict(Counter)
    for site in sites:
        province = (site.region or "").split("/")[0] or "(no region)"
        by_province[province][level_of(site)] += 1
        by_province[province]["verified"] += site.id in verified
        by_province[province]["portal"] += bool(site.portal)
    header = ["province", *LEVELS, "total", "with portal", "verified"]
    rows = []
    for province, counts in sorted(by_province.items()):
        rows.append([province, *(counts[level] for level in LEVELS), sum(counts[lv] for lv in LEVELS),
                     counts["portal"], counts["verified"]])
    total = Counter()
    for row in rows:
        total.update(dict(zip(header[1:], row[1:])))
    rows.append(["total", *(total[h] for h in header[1:])])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [header, *rows]]
    summary = (f"{len(sites)} entries valid: {total['province']} province, {total['city']} city, {total['county']} "
               f"county, {total['column']} column entries; {total['with portal']} with a portal root; "
               f"{total['verified']} verified by a crawl")
    return "\n".join([*lines, summary])


def entry_lines(sites: list, verified: set[str]) -> list[str]:
    lines = ["id\tlevel\tname\tregion\tportal\tstart_urls\tverified"]
    for site in sites:
        lines.append("\t".join([site.id, level_of(site), site.name, site.region or "", site.portal or "",
                                " ".join(site.start_urls), "yes" if site.id in verified else "no"]))
    return lines
