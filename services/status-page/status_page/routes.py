"""Every route inside a page: its path pattern (after slug and locale), methods, and whether the page's
access control guards it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from status_page.context import View
from status_page.views import access as access_views
from status_page.views import badges, feeds, html, summary
from status_page.views import subscribe as subscribe_views


@dataclass(frozen=True, slots=True)
class Route:
    pattern: re.Pattern[str]
    view: View
    methods: frozenset[str] = frozenset({"GET", "HEAD"})
    gated: bool = True


def route(
    pattern: str, view: View, *, methods: tuple[str, ...] = ("GET", "HEAD"), gated: bool = True
) -> Route:
    return Route(re.compile(f"^{pattern}$"), view, frozenset(methods), gated)


ROUTES: list[Route] = [
    route("", html.home),
    route("events", html.events),
    route(r"events/report/(?P<report_id>\d{1,18})", html.report),
    route("monitors", html.monitors),
    route("favicon.ico", html.favicon, gated=False),
    route("feed/rss", feeds.rss),
    route("feed/atom", feeds.atom),
    route("feed/json", feeds.json_feed),
    route("badge", badges.badge),
    route("badge/v2", badges.badge_v2),
    route(r"api/v2/summary\.json", summary.summary_json),
]


# Access control (views/access.py) and subscriptions (views/subscribe.py).
ROUTES += [
    route("login", access_views.login, methods=("GET", "HEAD", "POST"), gated=False),
    route("login/magic", access_views.magic, gated=False),
    route("logout", access_views.logout, methods=("POST",), gated=False),
    route("subscribe", subscribe_views.subscribe, methods=("POST",)),
    # The links from the mails: GET shows a button and changes nothing (mail scanners follow links), its POST
    # acts. No HEAD: nothing for a link checker here.
    route(
        f"confirm/{subscribe_views.TOKEN_PATTERN}",
        subscribe_views.confirm,
        methods=("GET", "POST"),
        gated=False,
    ),
    route(
        f"unsubscribe/{subscribe_views.TOKEN_PATTERN}",
        subscribe_views.unsubscribe,
        methods=("GET", "POST"),
        gated=False,
    ),
]


def match(path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in ROUTES:
        found = candidate.pattern.match(path)
        if found:
            return candidate, found.groupdict()
    return None
