"""Target address policy: which addresses a probe may connect to.

Cloud metadata endpoints hand out instance credentials, so they are refused unless
``allow_metadata_targets`` is set (which alone governs them). Loopback, private, shared (CGNAT),
link-local, unique-local and unspecified addresses are refused when ``allow_private_targets`` is off.

The policy is applied to the addresses a check actually connects to (after DNS resolution, on every
redirect hop), not to the name in the URL, so a name that resolves differently the second time
(DNS rebinding) cannot slip through. IPv4 addresses embedded in IPv6 (mapped ``::ffff:a.b.c.d``,
NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are judged as the IPv4 address they reach.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from openstatus_common.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack, ...
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
METADATA = "cloud metadata"
METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata.goog"})

_RANGES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("::/128", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("::1/128", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "private"),  # shared address space (carrier-grade NAT)
    ("169.254.0.0/16", "link-local"),
    ("fe80::/10", "link-local"),
    ("fc00::/7", "unique-local"),
)
_NETWORKS = tuple((ipaddress.ip_network(net), reason) for net, reason in _RANGES)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The policy forbids this target; ``str()`` is the check's error message."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"target {subject} is not allowed ({reason})")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_private: bool = True
    allow_metadata: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> TargetPolicy:
        return cls(
            allow_private=settings.allow_private_targets, allow_metadata=settings.allow_metadata_targets
        )

    def refusal(self, address: str) -> str | None:
        """Why ``address`` (an IP literal, IPv6 optionally with a ``%zone``) is refused, or None."""
        kind = classify(address)
        if kind == METADATA:
            return None if self.allow_metadata else kind
        if kind is not None and not self.allow_private:
            return kind
        return None

    def check_address(self, address: str) -> None:
        reason = self.refusal(address)
        if reason is not None:
            raise TargetRefused(f"address {address}", reason)

    def check_addresses(self, addresses: Iterable[str]) -> None:
        """Refuse the target when any of its addresses is refused (not just the one tried first)."""
        for address in addresses:
            self.check_address(address)

    def check_hostname(self, host: str) -> None:
        """Refuse well-known metadata names before resolving them, and IP literals by address."""
        name = host.strip("[]").rstrip(".").lower()
        if not self.allow_metadata and name in METADATA_HOSTNAMES:
            raise TargetRefused(f"host {name}", METADATA)
        if is_ip_literal(name):
            self.check_address(name)


@functools.lru_cache(maxsize=4096)
def classify(address: str) -> str | None:
    """``"cloud metadata"``, ``"loopback"``, ``"private"``, ``"link-local"``, ``"unique-local"``,
    ``"unspecified"``, or None for any other address. Raises ValueError when it is not an IP address."""
    ip = _effective(ipaddress.ip_address(address.split("%", 1)[0]))
    if ip in METADATA_ADDRESSES:
        return METADATA
    for network, reason in _NETWORKS:
        if ip.version == network.version and ip in network:
            return reason
    return None


@functools.lru_cache(maxsize=4096)
def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _effective(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address reaches when it embeds one; the address itself otherwise."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip
