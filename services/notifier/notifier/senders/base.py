"""What every sender shares: the send context, the error type, and a JSON POST that classifies failures.

A sender raises ``SendError``; ``permanent`` says retrying cannot help (the receiver answered 4xx, the channel
or the deployment is misconfigured), so the delivery is recorded as failed at once instead of backing off.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from openstatus_common.settings import Settings

USER_AGENT = "openstatus/1.0"
# A receiver that is busy or rate-limiting us may take it next time; any other 4xx will not.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
MAX_ERROR_BODY = 200


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Endpoints:
    """Vendor API addresses (fixed in production; tests point them at local receivers)."""

    pagerduty: str = "https://events.pagerduty.com/v2/enqueue"
    opsgenie_us: str = "https://api.opsgenie.com"
    opsgenie_eu: str = "https://api.eu.opsgenie.com"


@dataclass
class SendContext:
    settings: Settings
    http: httpx.AsyncClient
    endpoints: Endpoints = field(default_factory=Endpoints)

    @property
    def timeout(self) -> float:
        return self.settings.notify_timeout


@asynccontextmanager
async def open_context(settings: Settings, endpoints: Endpoints | None = None) -> AsyncIterator[SendContext]:
    """One HTTP client (connection pool) for every send of the process; redirects are not followed."""
    async with httpx.AsyncClient(
        timeout=settings.notify_timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}
    ) as client:
        yield SendContext(settings=settings, http=client, endpoints=endpoints or Endpoints())


@dataclass(frozen=True)
class JsonPost:
    """A request a provider module builds (purely) and ``post`` sends."""

    url: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def host_of(url: str) -> str:
    return urlsplit(url).hostname or "the receiver"


async def post(ctx: SendContext, request: JsonPost) -> httpx.Response:
    """Send ``request``; any answer but 2xx raises SendError (permanent for a 4xx other than 408/409/425/429)."""
    host = host_of(request.url)
    try:
        response = await ctx.http.post(
            request.url,
            content=json.dumps(request.body, separators=(",", ":")).encode(),
            headers={"Content-Type": "application/json", **request.headers},
            params=request.params or None,
            timeout=ctx.timeout,
        )
    except httpx.TimeoutException:
        raise SendError(f"{host} did not answer within {ctx.timeout:g}s") from None
    except httpx.HTTPError as error:
        raise SendError(f"could not reach {host}: {type(error).__name__} {error}".strip()) from None
    if not 200 <= response.status_code < 300:
        body = response.text[:MAX_ERROR_BODY].strip()
        permanent = 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_4XX
        raise SendError(
            f"{host} answered HTTP {response.status_code}" + (f": {body}" if body else ""),
            permanent=permanent,
        )
    return response


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
