"""Custom-domain ownership: a page answers at its custom domain only after a DNS TXT record proves it.

The owner publishes ``openstatus-verification=<token>`` at ``_openstatus.<domain>``; the API looks it
up when asked to verify. Until then the domain is only claimed: it is not served, it does not lock
the domain for anyone else, and links (mail, feeds, icon URLs) keep using the page's slug address.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence

import aiodns
import aiodns.error
import pycares

RECORD_PREFIX = "_openstatus"
VALUE_PREFIX = "openstatus-verification="
LOOKUP_TIMEOUT = 5.0

# c-ares status codes (pycares.errno): the name has no such record / does not exist.
_NO_RECORD_CODES = {1, 4}


class DnsLookupFailed(Exception):
    """The nameservers did not answer (as opposed to answering "no such record")."""


def new_token() -> str:
    return secrets.token_hex(16)


def record_name(domain: str) -> str:
    return f"{RECORD_PREFIX}.{domain}"


def record_value(token: str) -> str:
    return f"{VALUE_PREFIX}{token}"


async def txt_records(name: str, nameservers: Sequence[str] = ()) -> list[str]:
    """The TXT strings at ``name`` (each record's strings joined); empty when it has none."""
    resolver = aiodns.DNSResolver(nameservers=list(nameservers) or None, timeout=LOOKUP_TIMEOUT)
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT * 2):
            result = await resolver.query_dns(name, "TXT")
    except aiodns.error.DNSError as error:
        code = error.args[0] if error.args else None
        if code in _NO_RECORD_CODES:
            return []
        reason = error.args[1] if len(error.args) > 1 else str(error)
        raise DnsLookupFailed(f"TXT lookup of {name} failed: {reason}") from None
    except TimeoutError:
        raise DnsLookupFailed(f"TXT lookup of {name} timed out") from None
    finally:
        await resolver.close()
    values = []
    for record in result.answer:
        if not isinstance(record.data, pycares.TXTRecordData):
            continue
        raw = record.data.data
        values.append(raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw))
    return values
