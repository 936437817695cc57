"""Every route inside a page: its path pattern (after slug and locale), methods, and whether the page's
access control guards it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from status_page.context import View
from status_page.views import html


@dataclass(frozen=True, slots=True)
class Route:
    pattern: re.Pattern[str]
    view: View
    methods: frozenset[str] = frozenset({"GET", "HEAD"})
    gated: bool = True


def route(pattern: str, view: View, *, methods: tuple[str, ...] = ("GET", "HEAD"), gated: bool = True) -> Route:
    return Route(re.compile(f"^{pattern}$"), view, frozenset(methods), gated)


ROUTES: list[Route] = [
    route("", html.home),
    route("events", html.events),
    route(r"events/report/(?P<report_id>\d{1,18})", html.report),
    route("monitors", html.monitors),
]


def match(path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in ROUTES:
        found = candidate.pattern.match(path)
        if found:
            return candidate, found.groupdict()
    return None
