"""A national registry of portal roots: a CSV in the format of ``../shared/registry/portals.csv``.

Columns: ``adcode,province,city,county,level,name,portal_url,gk_url,nianbao_url,source``. Each row
becomes one ``portal:`` site whose id is its administrative code and whose region is
province/city/county (empty parts kept, so ``北京市//东城区`` still has its county third).
``gk_url`` (the 政府信息公开 entry, where known) is a second place discovery starts from;
``nianbao_url`` (a known 年报 column) is crawled as a start URL.

Hand-verified YAML entries sit beside the rows: a YAML entry that names the same government
(same name, or a portal on the same host in the same region) is merged with its row into one
site, keeping the YAML entry's id, name and columns and taking the row's adcode and portal.

Everything in the file is checked before a row becomes a site, because a row chooses where the crawler
connects: a row with more fields than the header has, a URL on a private, loopback or link-local address,
a host outside ``gov.cn``, or a ``nianbao_url`` on neither the portal's nor the ``gk_url``'s registrable
domain is refused, one line per row naming file, line and adcode. ``allow_any_host`` (``--allow-any-host``;
a local test portal) accepts private and non-government hosts; nothing else turns the checks off.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from ..hosts import private, registrable_domain
from . import RegistryError, Site, _check_url

COLUMNS = ("adcode", "province", "city", "county", "level", "name", "portal_url", "gk_url", "nianbao_url", "source")
LEVELS = ("province", "city", "county")
_ADCODE = re.compile(r"^\d{6}$")
GOVERNMENT_SUFFIX = ".gov.cn"


def _region(row: dict) -> str:
    parts = [row["province"], row["city"], row["county"]]
    while parts and not parts[-1]:
        parts.pop()
    return "/".join(parts)


def _row_site(path: Path, line: int, row: dict, allow_any_host: bool = False) -> Site:
    where = f"{path}: line {line} ({row.get('adcode') or 'no adcode'})"
    if None in row:  # csv.DictReader keeps fields past the header under the key None
        raise RegistryError(f"{where}: {len(row[None])} field(s) more than the header's {len(row) - 1}")
    if not _ADCODE.match(row.get("adcode") or ""):
        raise RegistryError(f"{where}: adcode must be 6 digits")
    for key in ("province", "name", "portal_url"):
        if not (row.get(key) or "").strip():
            raise RegistryError(f"{where}: missing '{key}'")
    if row.get("level") not in LEVELS:
        raise RegistryError(f"{where}: level must be one of {', '.join(LEVELS)}")
    if row["level"] == "county" and not row.get("county"):
        raise RegistryError(f"{where}: a county-level row needs 'county'")
    urls = {key: (row.get(key) or "").strip() for key in ("portal_url", "gk_url", "nianbao_url")}
    for url in filter(None, urls.values()):
        _check_url(where, url)
        if not allow_any_host:
            _check_host(where, url)
    _check_column_domain(where, urls)
    starts = tuple(filter(None, [urls["nianbao_url"]]))
    entries = tuple(filter(None, [urls["portal_url"], urls["gk_url"]]))
    return Site(
        id=row["adcode"], name=row["name"].strip(), start_urls=starts, region=_region(row), verified=False,
        hosts=tuple(sorted({urlsplit(u).hostname for u in (*entries, *starts)})), portal=urls["portal_url"],
        adcode=row["adcode"], level=row["level"], gk_url=urls["gk_url"] or None,
    )


def _check_host(where: str, url: str) -> None:
    """A row's URL on a government host: never a private, loopback or link-local address, always under gov.cn."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if private(host):
        raise RegistryError(f"{where}: {url} is on a private, loopback or link-local address (--allow-any-host "
                            "takes it)")
    if not registrable_domain(host).endswith(GOVERNMENT_SUFFIX):
        raise RegistryError(f"{where}: {url} is not on a government (gov.cn) domain (--allow-any-host takes it)")


def _check_column_domain(where: str, urls: dict) -> None:
    """A known 年报 column lies on the portal's registrable domain or on its 政府信息公开 entry's."""
    if not urls["nianbao_url"]:
        return
    own = {registrable_domain(urlsplit(urls[key]).hostname or "") for key in ("portal_url", "gk_url") if urls[key]}
    domain = registrable_domain(urlsplit(urls["nianbao_url"]).hostname or "")
    if domain not in own:
        raise RegistryError(f"{where}: nianbao_url {urls['nianbao_url']} is on {domain}, not on the portal's "
                            f"domain ({', '.join(sorted(own))})")


def load_csv(path: str | Path, allow_any_host: bool = False) -> list[Site]:
    """Every row as a portal site; bad rows raise one RegistryError, one line per row naming file, line and
    adcode."""
    path = Path(path)
    sites, refused = [], []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS[:7] if c not in (reader.fieldnames or [])]
            if missing:
                raise RegistryError(f"{path}: not a portals CSV: no column(s) {', '.join(missing)}")
            for n, row in enumerate(reader, start=2):
                try:
                    sites.append(_row_site(path, n, row, allow_any_host))
                except RegistryError as exc:
                    refused.append(str(exc))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RegistryError(f"{path}: cannot read portals CSV: {exc}") from exc
    if refused:
        raise RegistryError("\n".join(refused))
    seen: dict[str, int] = {}
    for site in sites:
        if site.id in seen:
            raise RegistryError(f"{path}: adcode {site.id} appears twice")
        seen[site.id] = 1
    return sites


def _same_government(entry: Site, row: Site) -> bool:
    if re.sub(r"\s+", "", entry.name) == re.sub(r"\s+", "", row.name):
        return True
    return bool(entry.portal and urlsplit(entry.portal).hostname == urlsplit(row.portal).hostname
                and (entry.region or "") == (row.region or ""))


def join(entries: list[Site], rows: list[Site]) -> list[Site]:
    """YAML entries and CSV rows as one registry: a government named in both is one site."""
    merged_rows: set[str] = set()
    out: list[Site] = []
    for entry in entries:
        row = next((r for r in rows if r.id not in merged_rows and _same_government(entry, r)), None)
        if row is None:
            out.append(entry)
            continue
        merged_rows.add(row.id)
        out.append(replace(
            entry, portal=entry.portal or row.portal, adcode=row.adcode, level=row.level,
            region=entry.region or row.region, hosts=tuple(sorted({*entry.hosts, *row.hosts})),
            gk_url=row.gk_url,
        ))
    out += [row for row in rows if row.id not in merged_rows]
    counts = Counter(s.id for s in out)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        raise RegistryError(f"duplicate site id {duplicates[0]!r} between the YAML registry and the portals CSV")
    return out
