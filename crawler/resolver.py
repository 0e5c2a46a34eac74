"""The address check at connect time: a name is judged by the address it resolves to.

The host policy (crawler/hosts.py) judges URLs by their names; a name under a portal's own domain
may still resolve to 127.0.0.1, 10.x or 169.254.169.254 (a cloud's metadata service). This resolver
(Scrapy's ``TWISTED_DNS_RESOLVER``) refuses such an answer before any connection is made, unless a registry
entry itself points at that address: an entry whose own host is a private address, or resolves to
one (the sample portal and the tests, on 127.0.0.1), may fetch from that address and no other
private one. The refusal reaches the fetch log as ``refused``, with the name and the address.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver

from .hosts import private

# Per crawl process (one crawl per process): the names registry entries point at, and the private
# addresses those names (or literal entries) are.
_ENTRY_NAMES: set[str] = set()
_ENTRY_ADDRESSES: set[str] = set()
# Names refused, with why: Twisted turns a resolver's failure into "no results for hostname lookup", so the fetch
# log asks here (``refused_name``) to record the refusal as what it was.
_REFUSED: dict[str, str] = {}


class AddressRefused(Exception):
    """A name resolved to a private, loopback or link-local address no registry entry points at."""


def allow_entries(sites) -> None:
    """The registry entries of this crawl: their own hosts may be private addresses (``Site`` objects or dicts)."""
    for site in sites:
        get = site.get if isinstance(site, dict) else lambda key, default=(), s=site: getattr(s, key, default)
        urls = [*(get("start_urls", ()) or ()), get("portal", None), get("gk_url", None)]
        hosts = {(urlsplit(u).hostname or "").lower() for u in urls if u}
        hosts |= {h.lower() for h in (get("allowed_hosts", ()) or ())}
        for host in filter(None, hosts):
            _ENTRY_NAMES.add(host)
            if private(host):
                _ENTRY_ADDRESSES.add(host.strip("[]"))


def refused_address(name: str, address: str) -> str | None:
    """Why ``name`` may not be fetched at ``address``, or None."""
    name = name.lower().rstrip(".")
    if not private(address):
        return None
    if name in _ENTRY_NAMES:
        _ENTRY_ADDRESSES.add(address)  # the entry points here itself
        return None
    if address in _ENTRY_ADDRESSES:
        return None
    return f"{name} resolves to {address}, a private, loopback or link-local address no registry entry points at"


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, with every answer checked by ``refused_address``."""

    def getHostByName(self, name: str, timeout=()):
        found = self.lookup(name, timeout)
        found.addCallback(self._checked, name)
        return found

    def lookup(self, name: str, timeout=()):
        return super().getHostByName(name, timeout)

    @staticmethod
    def _checked(address: str, name: str) -> str:
        reason = refused_address(name, address)
        if reason:
            _REFUSED[name.lower().rstrip(".")] = reason
            raise AddressRefused(reason)
        return address


def refused_name(host: str | None) -> str | None:
    """Why the resolver refused ``host`` in this crawl, or None."""
    return _REFUSED.get((host or "").lower().rstrip("."))
