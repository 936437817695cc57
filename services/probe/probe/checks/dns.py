"""DNS checks: query A, AAAA, CNAME, MX, NS and TXT for a name with aiodns (c-ares).

Every check uses a new resolver: c-ares caches answers for their TTL, and a DNS monitor must ask the
nameserver each time (creating one costs about half a millisecond). ``nameservers`` are IPs with an
optional port (``127.0.0.1:5353``, ``[::1]:53``); none means the system's resolv.conf servers.

Record values: A/AAAA addresses, CNAME and NS names, MX as ``"<priority> <host>"``, TXT as the record's
strings joined. A type the name has no records of is an empty list; a name that does not exist is the
error ``NXDOMAIN: <name>``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import aiodns
import aiodns.error

from openstatus_common.messages.checks import CheckTarget, Timing
from openstatus_common.vocab import DnsRecordType
from probe.checks.attempt import Attempt, elapsed_ms, timeout_message

RECORD_TYPES: tuple[DnsRecordType, ...] = tuple(DnsRecordType)

# c-ares status codes (pycares.errno) that need words of their own.
_ENODATA = 1
_ENOTFOUND = 4


class DnsQueryError(Exception):
    """A query failed for a reason other than "no such record"; ``str()`` is the check's error."""


def query_name(url: str) -> str:
    """The name to query: a bare name, or the host of a URL someone pasted (``https://x.dev/``)."""
    text = url.strip()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    return text.rstrip(".").lower()


async def check_dns(target: CheckTarget, nameservers: Sequence[str] = ()) -> Attempt:
    """Query every record type concurrently, bounded by ``target.timeout_ms``."""
    name = query_name(target.url)
    started = time.perf_counter()

    def attempt(error: str | None = None, records: dict[str, list[str]] | None = None) -> Attempt:
        total = elapsed_ms(started, time.perf_counter())
        return Attempt(latency_ms=total, timing=Timing(dns_ms=total), error=error, dns_records=records)

    if not name:
        return attempt(f"invalid DNS target {target.url!r} (expected a domain name)")
    resolver = aiodns.DNSResolver(nameservers=list(nameservers) or None, timeout=target.timeout_ms / 1000)
    try:
        async with asyncio.timeout(target.timeout_ms / 1000):
            answers = await asyncio.gather(*(_query(resolver, name, rtype) for rtype in RECORD_TYPES))
    except TimeoutError:
        return attempt(timeout_message(target.timeout_ms))
    except DnsQueryError as exc:
        return attempt(str(exc))
    finally:
        await resolver.close()
    return attempt(records={rtype.value: values for rtype, values in zip(RECORD_TYPES, answers, strict=True)})


async def _query(resolver: aiodns.DNSResolver, name: str, rtype: DnsRecordType) -> list[str]:
    try:
        result = await resolver.query_dns(name, rtype.value)
    except aiodns.error.DNSError as exc:
        code = exc.args[0] if exc.args else None
        if code == _ENODATA:
            return []
        if code == _ENOTFOUND:
            raise DnsQueryError(f"NXDOMAIN: {name}") from None
        reason = exc.args[1] if len(exc.args) > 1 else str(exc)
        raise DnsQueryError(f"DNS query {rtype.value} {name} failed: {reason}") from None
    wanted = _TYPE_NUMBERS[rtype]
    return [_value(record.data) for record in result.answer if record.type == wanted]


_TYPE_NUMBERS = {
    DnsRecordType.A: 1,
    DnsRecordType.NS: 2,
    DnsRecordType.CNAME: 5,
    DnsRecordType.MX: 15,
    DnsRecordType.TXT: 16,
    DnsRecordType.AAAA: 28,
}


def _value(data: Any) -> str:
    if hasattr(data, "addr"):  # A, AAAA
        return str(data.addr)
    if hasattr(data, "exchange"):  # MX
        return f"{data.priority} {data.exchange.rstrip('.')}"
    if hasattr(data, "cname"):
        return str(data.cname).rstrip(".")
    if hasattr(data, "nsdname"):
        return str(data.nsdname).rstrip(".")
    if hasattr(data, "data"):  # TXT: the record's strings, joined
        raw = data.data
        return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    return str(data)
