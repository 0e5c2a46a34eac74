"""Where a site's crawl may go.

A registry entry may fetch from its portal's own registrable domain (``www.qzlj.gov.cn``,
``qzlj.gov.cn`` and ``files.qzlj.gov.cn`` are one site: portals redirect between the bare and the
``www.`` name and keep files on sibling hosts) and from any host its entry lists under
``allowed_hosts:``. Everything else is refused with a logged reason: other domains, other
schemes, and private or loopback addresses unless the entry's own portal is one (the sample
portal on 127.0.0.1). Registrable domains come from the Public Suffix List bundled with
tldextract (no network): ``gov.cn`` is a public suffix, so ``qzlj.gov.cn`` is the unit.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _address(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def private(host: str) -> bool:
    address = _address(host)
    if address is None:
        return host == "localhost" or host.endswith(".localhost")
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """``www.qzlj.gov.cn`` → ``qzlj.gov.cn``; an address or a name without a public suffix is itself."""
    host = (host or "").lower().rstrip(".")
    if _address(host) is not None:
        return host
    extracted = _EXTRACT(host)
    if not extracted.suffix or not extracted.domain:
        return host.removeprefix("www.")
    return f"{extracted.domain}.{extracted.suffix}"


def site_hosts(site: dict) -> tuple[set[str], set[str]]:
    """(registrable domains of the entry's start URLs, its allowed_hosts)."""
    domains = {registrable_domain(urlsplit(u).hostname or "") for u in site.get("start_urls", [])}
    if site.get("portal"):
        domains.add(registrable_domain(urlsplit(site["portal"]).hostname or ""))
    return domains, {h.lower() for h in site.get("allowed_hosts", [])}


def refusal(url: str, site: dict | None) -> str | None:
    """Why ``url`` may not be fetched for ``site``, or None when it may."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        return f"malformed URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not crawled"
    if not site:
        return None  # robots.txt and other engine requests
    domains, allowed = site_hosts(site)
    own = registrable_domain(host) in domains
    listed = host in allowed or any(host.endswith("." + h) for h in allowed)
    if not own and not listed:
        return (f"host {host} is not the registry entry's ({', '.join(sorted(domains))}"
                + (f"; allowed_hosts: {', '.join(sorted(allowed))}" if allowed else "") + ")")
    portal_private = any(private(d) for d in domains)
    if private(host) and not portal_private:
        return f"{host} is a private or loopback address"
    return None
