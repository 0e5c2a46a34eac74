"""Names for the sample portal, so it can behave as a real portal does with its host names
(a bare domain redirecting to ``www.``), on 127.0.0.1 and with no DNS: ``-s
DNS_RESOLVER=sampleportal.resolver.PortalResolver`` resolves ``*.nianbao-portal.test`` (a
reserved test domain, RFC 2606) to 127.0.0.1 and every other name as Scrapy does."""

from __future__ import annotations

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer

DOMAIN = "nianbao-portal.test"


class PortalResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout=()):
        if name == DOMAIN or name.endswith("." + DOMAIN):
            return defer.succeed("127.0.0.1")
        return super().getHostByName(name, timeout)
