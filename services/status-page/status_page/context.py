"""What every view gets: the page's snapshot, the visitor's locale, and how to link within the page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from openstatus_common.pages.snapshot import PageSnapshot
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from status_page.i18n import LOCALE_NAMES, Translator
from status_page.store import PageStore

TEMPLATES_DIR = Path(__file__).parent / "templates"
EMBED_SECTIONS = ("title", "banner", "components", "feed")


@dataclass(frozen=True, slots=True)
class Embed:
    """``?embed``: off, or on with the sections to show (seed page 10)."""

    enabled: bool = False
    sections: frozenset[str] = frozenset(EMBED_SECTIONS)

    def shows(self, section: str) -> bool:
        return section in self.sections

    @classmethod
    def parse(cls, value: str | None) -> Embed:
        """Comma list, case-insensitive, unknown keys ignored; ``all``, empty or nothing valid: every section."""
        if value is None:
            return cls()
        wanted = {part.strip().lower() for part in value.split(",")}
        sections = frozenset(s for s in EMBED_SECTIONS if s in wanted)
        return cls(enabled=True, sections=sections or frozenset(EMBED_SECTIONS))


@dataclass
class Pages:
    """The service's shared state."""

    ctx: ServiceContext
    settings: Settings
    store: PageStore
    templates: Jinja2Templates
    signing_key: bytes
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageRequest:
    request: Request
    pages: Pages
    snapshot: PageSnapshot
    locale: str
    # Path prefix of the page on this host: "" (its own host) or "/<slug>".
    prefix: str
    # The route inside the page, without locale and slashes: "", "events", "feed/json", ...
    path: str
    embed: Embed
    t: Translator
    # Named groups of the route's pattern (e.g. the report id).
    params: dict[str, str] = field(default_factory=dict)

    @property
    def page_id(self) -> int:
        return self.snapshot.page.id

    def url(self, path: str = "", *, locale: str | None = None) -> str:
        """A link inside the page, in the visitor's locale unless told otherwise (``as-needed`` prefix)."""
        chosen = locale or self.locale
        parts = [self.prefix]
        if chosen != self.snapshot.page.default_locale:
            parts.append("/" + chosen)
        if path:
            parts.append("/" + path.lstrip("/"))
        return "".join(parts) or "/"

    def absolute(self, path: str = "", *, locale: str | None = None) -> str:
        base = str(self.request.base_url).rstrip("/")
        return base + self.url(path, locale=locale)

    @property
    def locale_links(self) -> list[tuple[str, str, str]]:
        """(code, name, url of this route in that locale) for the switcher."""
        return [
            (code, LOCALE_NAMES[code], self.url(self.path, locale=code))
            for code in self.snapshot.page.locales
        ]


View = Callable[[PageRequest], Awaitable[Response]]
