"""SSRF guard: crawls may only reach public addresses, unless a network is allowed explicitly.

The check happens where the connection is made: :class:`GuardedResolver` vets every address a
host name resolves to (so a redirect, or a DNS answer that changes after a site was validated,
cannot reach an internal service) and :class:`crawler.middlewares.ssrf.SsrfGuardMiddleware`
vets IP literals in URLs before anything else happens to the request.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

if TYPE_CHECKING:
    from typing import Self

    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Setting read by the resolver and the middleware: networks a crawl may reach anyway.
ALLOWED_NETWORKS_SETTING = "NEWSVAULT_ALLOWED_NETWORKS"

# Shared-address space (RFC 6598): not "private" for ipaddress, but internal to carriers.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")

# host name -> why it was refused. One crawl runs per process, so a module-level record lets
# the failure recorder tell an SSRF refusal from an ordinary DNS failure: Twisted turns every
# resolver error into a bare "DNS lookup failed" before Scrapy sees it.
_refused_hosts: dict[str, str] = {}


class SsrfRefused(IgnoreRequest):
    """The request targets an address crawls may not reach."""


class SsrfDNSRefused(DNSLookupError):
    """A host name resolved to an address crawls may not reach."""


def refusal_for_host(host: str) -> str | None:
    """Why ``host`` was refused by the resolver in this process, if it was."""
    return _refused_hosts.get(host.lower().rstrip("."))


def _remember(host: str, reason: str) -> None:
    _refused_hosts[host.lower().rstrip(".")] = reason


class NetworkPolicy:
    """Decides whether an address may be connected to."""

    def __init__(self, allowed: Iterable[str | IPNetwork] = ()) -> None:
        self.allowed: list[IPNetwork] = [ipaddress.ip_network(n, strict=False) for n in allowed]

    @staticmethod
    def _effective(address: IPAddress) -> IPAddress:
        # ::ffff:127.0.0.1 and 2002:7f00:1:: reach IPv4 hosts: judge the embedded address.
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                return address.ipv4_mapped
            if address.sixtofour is not None:
                return address.sixtofour
        return address

    def refusal(self, address: str | IPAddress) -> str | None:
        """None when ``address`` may be reached, else the reason it may not."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return f"{address!r} is not an IP address"
        effective = self._effective(ip)
        for candidate in {ip, effective}:
            if any(candidate in network for network in self.allowed):
                return None
        if effective in _CGNAT:
            category = "shared (CGNAT)"
        elif effective.is_loopback:
            category = "loopback"
        elif effective.is_link_local:
            category = "link-local"
        elif effective.is_multicast:
            category = "multicast"
        elif effective.is_unspecified:
            category = "unspecified"
        elif effective.is_private:
            category = "private"
        elif effective.is_reserved or not effective.is_global:
            category = "reserved"
        else:
            return None
        return (
            f"{ip} is not a public address ({category}); allow it with NEWSVAULT_ALLOWED_NETWORKS "
            "or the site's allowed_networks"
        )


def policy_from_settings(networks: Sequence[str] | None) -> NetworkPolicy:
    return NetworkPolicy(networks or ())


def check_literal_host(host: str, policy: NetworkPolicy) -> str | None:
    """For a URL host that is an IP literal, the refusal reason; None for names/allowed IPs."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return policy.refusal(ip)


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that refuses non-public answers (TWISTED_DNS_RESOLVER).

    It is an IPv4 ``IResolverSimple``: Twisted connects to exactly the address returned here,
    so there is no window between the check and the connection.
    """

    def __init__(
        self, reactor: ReactorBase, cache_size: int, timeout: float, policy: NetworkPolicy
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: ReactorBase) -> Self:
        # Scrapy builds the resolver from the CrawlerProcess (process-wide settings).
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        policy = policy_from_settings(settings.getlist(ALLOWED_NETWORKS_SETTING))
        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"), policy)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        # The parent caches the raw answer; the check runs on every lookup, cached or not.
        d = super().getHostByName(name, timeout)
        d.addCallback(self._vet, name)
        return d

    def _vet(self, address: str, name: str) -> str:
        reason = self.policy.refusal(address)
        if reason is None:
            return address
        message = f"{name} resolves to {reason}"
        _remember(name, message)
        logger.warning("SSRF guard: refused %s", message)
        raise SsrfDNSRefused(message)
