"""Names for the sample portal, so it can behave as a real portal does with its host names
(a bare domain redirecting to ``www.``, departments on subdomains), on 127.0.0.1 and with no DNS:
``-s TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver`` resolves ``*.nianbao-portal.test`` (a
reserved test domain, RFC 2606) to 127.0.0.1, ``-s NIANBAO_TEST_ADDRESSES=name=address,…`` names
to other addresses (a portal on 127.0.0.2, a name pointing at 169.254.169.254), and every other
name as Scrapy does. Every answer still passes the crawler's address check (crawler/resolver.py)."""

from __future__ import annotations

from twisted.internet import defer

from crawler.resolver import GuardedResolver

DOMAIN = "nianbao-portal.test"


class PortalResolver(GuardedResolver):
    addresses: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler, reactor):
        pairs = crawler.settings.get("NIANBAO_TEST_ADDRESSES") or ""
        cls.addresses = dict(p.split("=", 1) for p in str(pairs).split(",") if "=" in p)
        return super().from_crawler(crawler, reactor)

    def lookup(self, name: str, timeout=()):
        if name in self.addresses:
            return defer.succeed(self.addresses[name])
        if name == DOMAIN or name.endswith("." + DOMAIN):
            return defer.succeed("127.0.0.1")
        return super().lookup(name, timeout)
