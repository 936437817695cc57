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
