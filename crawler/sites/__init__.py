"""The registry of agency portals: YAML files of ``sites:`` entries, validated on load.

An entry is ``{id, name, region, start_urls: [...], cms}`` (hand-verified 年报 columns) or
``{id, name, region, portal: URL, allowed_hosts?: [...], cms?}`` (a portal root: the crawler
discovers its columns, crawler/discovery.py); an entry may give both. ``cms`` is optional
(trs | hanweb | vsb | gkmlpt | fujian | ucap | generic) and detected from the first page when absent;
``allowed_hosts`` lists hosts beyond the portal's own registrable domain that may be fetched
(a file server on another domain, say). See crawler/hosts.py for the host policy.
``${PORTAL}`` in a URL is replaced by the sample portal's base URL, ``${PORTAL_PORT}`` by its port (for the
portal's names: ``http://www.nianbao-sz.onion:${PORTAL_PORT}/``, sampleportal/resolver.py).
National registries of portal roots (CSV) are read by ``crawler.sites.national``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

CMS_FAMILIES = ("trs", "hanweb", "vsb", "gkmlpt", "fujian", "ucap", "generic")
HERE = Path(__file__).resolve().parent
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class RegistryError(ValueError):
    """A registry file or entry that cannot be used; the message names file and entry."""


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    start_urls: tuple[str, ...]
    region: str | None = None
    cms: str | None = None
    verified: bool = True
    notes: str | None = None
    hosts: tuple[str, ...] = field(default=())
    portal: str | None = None  # a portal root: its 年报 columns are discovered
    allowed_hosts: tuple[str, ...] = field(default=())
    adcode: str | None = None  # administrative division code, from a national registry
    level: str | None = None  # province | city | county, from a national registry
    gk_url: str | None = None  # the portal's 政府信息公开 entry, where a national registry knows it

    def as_dict(self) -> dict:
        # The crawler's host guard reads start_urls: a portal entry's own entry points count as them.
        urls = list(dict.fromkeys([*self.start_urls, *(u for u in (self.portal, self.gk_url) if u)]))
        return {"id": self.id, "name": self.name, "region": self.region, "cms": self.cms,
                "start_urls": urls, "portal": self.portal, "allowed_hosts": list(self.allowed_hosts)}


def _site(path: Path, index: int, entry, portal: str | None) -> Site:
    where = f"{path}: entry {index + 1}"
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: expected a mapping, got {type(entry).__name__}")
    where += f" ({entry.get('id', 'no id')})"
    for key in ("id", "name"):
        if not entry.get(key):
            raise RegistryError(f"{where}: missing '{key}'")
    if not entry.get("start_urls") and not entry.get("portal"):
        raise RegistryError(f"{where}: missing 'start_urls' (or 'portal', a portal root to discover)")
    if not _ID.match(str(entry["id"])):
        raise RegistryError(f"{where}: id must be lower-case letters, digits, '-' or '_'")
    if entry.get("cms") not in (None, *CMS_FAMILIES):
        raise RegistryError(f"{where}: cms must be one of {', '.join(CMS_FAMILIES)}")
    urls = entry.get("start_urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise RegistryError(f"{where}: start_urls must be a list of URLs")
    root = entry.get("portal")
    if root is not None and not isinstance(root, str):
        raise RegistryError(f"{where}: portal must be one URL (the portal's root)")
    urls = [_substitute(where, u, portal) for u in urls]
    root = _substitute(where, root, portal) if root else None
    for url in [*urls, *([root] if root else [])]:
        _check_url(where, url)
    extra = entry.get("allowed_hosts") or []
    if not isinstance(extra, list) or not all(isinstance(h, str) and h and "/" not in h for h in extra):
        raise RegistryError(f"{where}: allowed_hosts must be a list of host names")
    unknown = set(entry) - {"id", "name", "region", "start_urls", "cms", "verified", "notes", "portal",
                            "allowed_hosts"}
    if unknown:
        raise RegistryError(f"{where}: unknown keys {sorted(unknown)}")
    return Site(
        id=entry["id"], name=str(entry["name"]), start_urls=tuple(urls), region=entry.get("region"),
        cms=entry.get("cms"), verified=bool(entry.get("verified", True)), notes=entry.get("notes"),
        hosts=tuple(sorted({urlsplit(u).hostname for u in [*urls, *([root] if root else [])]})),
        portal=root, allowed_hosts=tuple(h.lower() for h in extra),
    )


def _substitute(where: str, url: str, portal: str | None) -> str:
    if "${PORTAL}" not in url and "${PORTAL_PORT}" not in url:
        return url
    if not portal:
        raise RegistryError(f"{where}: uses ${{PORTAL}} but no portal URL was given")
    parts = urlsplit(portal)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return url.replace("${PORTAL}", portal.rstrip("/")).replace("${PORTAL_PORT}", str(port))


def _check_url(where: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"{where}: not an http(s) URL: {url!r}")


def load(paths, portal: str | None = None) -> list[Site]:
    """Load and validate registry files; raise RegistryError naming the file and entry."""
    sites: list[Site] = []
    for path in [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]:
        try:
            # libyaml's loader where the wheel has it: a national registry loads ten times faster
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (OSError, yaml.YAMLError) as exc:
            raise RegistryError(f"{path}: cannot read registry: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("sites"), list):
            raise RegistryError(f"{path}: expected a top-level 'sites:' list")
        sites += [_site(path, i, entry, portal) for i, entry in enumerate(data["sites"])]
    seen: set[str] = set()
    for site in sites:
        if site.id in seen:
            raise RegistryError(f"duplicate site id {site.id!r}")
        seen.add(site.id)
    return sites


def shard_of(site: Site, count: int) -> int:
    """Which of `count` shards crawls a site: by its host's registrable domain, the unit of politeness, so
    the portals of one platform (16 counties under hainan.gov.cn) are never crawled from two machines at once."""
    from ..hosts import registrable_domain

    domain = registrable_domain(site.hosts[0]) if site.hosts else site.id
    return int(hashlib.sha256(domain.encode()).hexdigest()[:8], 16) % count


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 0 <= int(match.group(1)) < int(match.group(2)):
        raise RegistryError(f"shard must be I/N with 0 <= I < N, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def select_shard(sites: list[Site], shard: str | None) -> list[Site]:
    parsed = parse_shard(shard)
    if parsed is None:
        return sites
    index, count = parsed
    return [site for site in sites if shard_of(site, count) == index]


def select_region(sites: list[Site], region: str | None) -> list[Site]:
    """``福建省/泉州市`` (leading parts of the region, empty parts ignored) or an adcode prefix ``3505``."""
    if region is None:
        return sites
    wanted = region.strip()
    parts = [p.strip() for p in wanted.split("/") if p.strip()]
    if not parts:  # an empty shell variable must not mean the whole country
        raise RegistryError(f"--region {region!r} names no region: give 福建省/泉州市 or an adcode prefix such as "
                            "3505, or leave --region out for the whole registry")
    if wanted.isdigit():
        return [site for site in sites if (site.adcode or "").startswith(wanted)]
    return [site for site in sites if [p for p in (site.region or "").split("/") if p][: len(parts)] == parts]


def select(sites_files=(), portals: str | Path | None = None, portal: str | None = None, region: str | None = None,
           shard: str | None = None, allow_any_host: bool = False) -> list[Site]:
    """The registry a crawl works on: YAML files and a national CSV joined, then cut by region and shard.
    ``allow_any_host``: the CSV may name private and non-government hosts (crawler/sites/national.py)."""
    from .national import join, load_csv

    loaded = load(list(sites_files), portal=portal) if sites_files else []
    if portals:
        loaded = join(loaded, load_csv(portals, allow_any_host=allow_any_host))
    return select_shard(select_region(loaded, region), shard)
