"""Which page a request is for, and where inside it: by custom domain, by ``<slug>.<base domain>``, or by
the slug as the first path segment; then an optional locale segment (``as-needed``: the default locale has
no prefix)."""

from __future__ import annotations

from dataclasses import dataclass

from openstatus_common.pages.urls import own_hosts
from openstatus_common.settings import Settings


@dataclass(frozen=True, slots=True)
class Target:
    """How to find the page: by slug or by custom domain, and the path after it."""

    slug: str | None
    domain: str | None
    # "" when the host names the page, "/<slug>" when the path does.
    prefix: str
    # Path segments after the page (locale still included).
    segments: tuple[str, ...]


def host_of(raw_host: str) -> str:
    host = raw_host.strip().lower()
    if host.startswith("["):  # [v6]:port
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_own_host(host: str, settings: Settings) -> bool:
    """Hosts that never name a page by themselves: loopback, IP literals, the deployment's own names."""
    if host.replace(".", "").isdigit() or host.startswith("["):
        return True
    return host in own_hosts(settings)


def target_for(host_header: str, path: str, settings: Settings) -> Target | None:
    host = host_of(host_header)
    segments = tuple(part for part in path.split("/") if part)
    base = settings.status_page_base_domain
    if base and host.endswith("." + base):
        label = host[: -len(base) - 1]
        if label and "." not in label:
            return Target(slug=label, domain=None, prefix="", segments=segments)
    if host and not is_own_host(host, settings):
        return Target(slug=None, domain=host, prefix="", segments=segments)
    if not segments:
        return None
    return Target(slug=segments[0], domain=None, prefix="/" + segments[0], segments=segments[1:])


def path_target(path: str) -> Target | None:
    """The fallback when a host is not a page's custom domain: the slug comes from the path."""
    segments = tuple(part for part in path.split("/") if part)
    if not segments:
        return None
    return Target(slug=segments[0], domain=None, prefix="/" + segments[0], segments=segments[1:])
