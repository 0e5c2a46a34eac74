"""Names for the sample portal, so it can behave as a real portal does with its host names
(a bare domain redirecting to ``www.``, departments on subdomains), on 127.0.0.1 and with no DNS:
``-s TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver`` resolves the portal's names (every name
under ``DOMAINS``) to 127.0.0.1, ``-s NIANBAO_TEST_ADDRESSES=name=address,…`` names to other addresses (a
portal on 127.0.0.2, a name pointing at 169.254.169.254), and every other name as Scrapy does. Every answer
still passes the crawler's address check (crawler/resolver.py): 127.0.0.1 is let through only because a
registry entry itself points at one of these names.
``nianbao crawl|nightly|demo --portal-url`` (the sample portal) installs this resolver.

Why these names:

- ``nianbao-portal.test``: a reserved test domain (RFC 2606); not a public suffix, so the Public Suffix List
  gives it no registrable domain and every name under it is a site (and a politeness slot) of its own.
- ``nianbao-sz.onion``: the department portal (pages.DepartmentSubdomains: ``www.`` and a subdomain per
  department). It needs a real public suffix, so that ``registrable_domain`` makes its subdomains one portal,
  one host policy and one download slot, as it does for ``www.sz.gov.cn`` and ``hrss.sz.gov.cn``. ``onion``
  is one (the PSL's ICANN section, RFC 7686) and, unlike a name under ``gov.cn`` (which a government may
  hold now or later), no name under it can reach a real site if this resolver were missing: ``.onion`` is a
  special-use name that DNS never delegates (resolvers answer NXDOMAIN), and ``nianbao-sz`` is not even a
  valid onion service address (56 base32 characters), so Tor could not reach it either. Without this
  resolver the crawl of that column fails with DNS errors: it never goes anywhere else.
"""

from __future__ import annotations

from twisted.internet import defer

from crawler.resolver import GuardedResolver

DOMAIN = "nianbao-portal.test"
DEPARTMENTS_DOMAIN = "nianbao-sz.onion"
DOMAINS = (DOMAIN, DEPARTMENTS_DOMAIN)


def under(name: str, domain: str) -> bool:
    return name == domain or name.endswith("." + domain)


class PortalResolver(GuardedResolver):
    addresses: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler, reactor):
        pairs = crawler.settings.get("NIANBAO_TEST_ADDRESSES") or ""
        cls.addresses = dict(p.split("=", 1) for p in str(pairs).split(",") if "=" in p)
        return super().from_crawler(crawler, reactor)

    def lookup(self, name: str, timeout=()):
        name = name.lower().rstrip(".")
        if name in self.addresses:
            return defer.succeed(self.addresses[name])
        if any(under(name, domain) for domain in DOMAINS):
            return defer.succeed("127.0.0.1")
        return super().lookup(name, timeout)
