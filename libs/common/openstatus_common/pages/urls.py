"""Where a status page lives: the one rule for building its public links (pages, feeds, mails).

A custom domain wins; otherwise ``<slug>.<base domain>`` when the deployment has a base domain; otherwise the
slug as the first path segment of the status-page service's URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from openstatus_common.settings import Settings


def page_url(settings: Settings, slug: str, custom_domain: str | None = None) -> str:
    """The page's root URL, without a trailing slash."""
    base = urlsplit(settings.status_page_url)
    scheme = base.scheme or "http"
    if custom_domain:
        return f"https://{custom_domain}"
    if settings.status_page_base_domain:
        port = f":{base.port}" if base.port and scheme == "http" else ""
        return f"{scheme}://{slug}.{settings.status_page_base_domain}{port}"
    return f"{settings.status_page_url.rstrip('/')}/{slug}"


def own_hosts(settings: Settings) -> set[str]:
    """Host names of the deployment itself: never a page's custom domain."""
    hosts = {"localhost", settings.host}
    for url in (settings.status_page_url, settings.api_url):
        name = urlsplit(url).hostname
        if name:
            hosts.add(name.lower())
    if settings.status_page_base_domain:
        hosts.add(settings.status_page_base_domain)
    return hosts


def is_reserved_domain(settings: Settings, host: str) -> bool:
    """True for hosts a page may not claim: the deployment's own, and anything under its base domain."""
    host = host.lower().rstrip(".")
    base = settings.status_page_base_domain
    return host in own_hosts(settings) or (bool(base) and host.endswith("." + base))
