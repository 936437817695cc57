"""Real-browser fixtures: the status-page app over real HTTP, a seeded page, and headless Debian Chromium.

The app runs in-process under uvicorn on a free loopback port (one server per test, on a fresh SQLite database
from the common plugin); Chromium is launched once per module through Playwright's async API with the system
binary (``/usr/bin/chromium``), never a downloaded one. Every page a test opens is watched for console errors,
uncaught exceptions and failed same-origin requests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    async_playwright,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from openstatus_common.db.base import utcnow
from openstatus_common.local.natsd import free_port
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings
from openstatus_common.testing.pages import PageBuilder
from status_page.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1100, "height": 900}


# --- artifacts ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: ``$BROWSER_ARTIFACTS`` or ``tests/browser/artifacts``."""
    directory = Path(os.environ.get("BROWSER_ARTIFACTS") or Path(__file__).parent / "artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# --- seeding (the same ORM rows as services/status-page/tests/conftest.py's PageBuilder) ---------------------


@dataclass(frozen=True)
class SeededPage:
    """What the seeded page shows, for assertions."""

    slug: str
    title: str
    groups: tuple[str, ...]
    components: tuple[str, ...]
    monitor_components: tuple[str, ...]
    active_report: str
    past_report: str
    ongoing_maintenance: str
    upcoming_maintenance: str
    # Days ago with rollups (1..history_days) on every monitor component; older days have no data.
    history_days: int


def today_start() -> datetime:
    return datetime.combine(utcnow().date(), time(), UTC)


async def seed_page(sessions: async_sessionmaker[AsyncSession]) -> SeededPage:
    """A published page in three locales: two groups of monitor and static components with 45 days of history,
    an unresolved report, a resolved one, an ongoing and an upcoming maintenance, and a resolved incident."""
    build = PageBuilder(sessions)
    now = utcnow()
    created = now - timedelta(days=120)
    await build.page(
        "acme",
        title="Acme Status",
        description="Live status of Acme services",
        locales=["en", "fr", "de"],
        default_locale="en",
        contact_url="mailto:ops@acme.test",
    )
    api = await build.monitor("API")
    web = await build.monitor("Web")
    db = await build.monitor("Database")
    core = await build.group("Core services", order=1)
    data = await build.group("Data platform", order=2, default_open=True)
    c_api = await build.component("Public API", monitor=api, group_id=core.id, order=1, created_at=created)
    c_web = await build.component("Website", monitor=web, group_id=core.id, order=2, created_at=created)
    await build.component("Primary database", monitor=db, group_id=data.id, order=1, created_at=created)
    c_pay = await build.component("Payments", group_id=data.id, order=2, created_at=created)
    await build.component("Support desk", order=3, created_at=created)

    history_days = 45
    start = today_start()
    for monitor in (api, web, db):
        counts = [(start, 60, 0, 0)]  # today so far
        for ago in range(1, history_days + 1):
            bad = monitor is api and ago == 2  # the day of the incident
            counts.append((start - timedelta(days=ago), *((1420, 5, 15) if bad else (1440, 0, 0))))
        await build.days(monitor, counts)
    await build.incident(
        api,
        start - timedelta(days=2) + timedelta(hours=10),
        start - timedelta(days=2) + timedelta(hours=10, minutes=15),
    )
    await build.report(
        "Slow page loads on the website",
        [c_web],
        [
            ("investigating", "We are looking into slow responses.", now - timedelta(minutes=30)),
            (
                "identified",
                "A cache node is overloaded; we are adding capacity.",
                now - timedelta(minutes=10),
            ),
        ],
    )
    await build.report(
        "Login errors",
        [c_api],
        [
            # Within one day whatever the time of the run: the test expects it in exactly one day's card.
            ("investigating", "Some logins fail.", start - timedelta(days=5) + timedelta(hours=10)),
            ("resolved", "Fixed by a rollback.", start - timedelta(days=5) + timedelta(hours=11)),
        ],
    )
    await build.maintenance(
        "Payment provider upgrade",
        [c_pay],
        now - timedelta(minutes=5),
        now + timedelta(hours=1),
        "Card payments may retry.",
    )
    await build.maintenance(
        "Database failover drill", [c_pay], now + timedelta(days=3), now + timedelta(days=3, hours=2)
    )
    return SeededPage(
        slug="acme",
        title="Acme Status",
        groups=("Core services", "Data platform"),
        components=("Public API", "Website", "Primary database", "Payments", "Support desk"),
        monitor_components=("Public API", "Website", "Primary database"),
        active_report="Slow page loads on the website",
        past_report="Login errors",
        ongoing_maintenance="Payment provider upgrade",
        upcoming_maintenance="Database failover drill",
        history_days=history_days,
    )


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> SeededPage:
    return await seed_page(sessions)


# --- the app over real HTTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    base: str
    seed: SeededPage

    def url(self, path: str = "") -> str:
        return f"{self.base}/{self.seed.slug}{path}"


@pytest.fixture
async def site(db_engine: AsyncEngine, seeded: SeededPage, tmp_path: Path) -> AsyncIterator[Site]:
    """The real status-page app served by uvicorn on 127.0.0.1, with the seeded page in its database."""
    ctx = ServiceContext(name="status-page", settings=Settings(var_dir=tmp_path))
    ctx.attach(engine=db_engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(15):
            while not server.started:
                if task.done():
                    task.result()  # startup failed: raise its error
                    raise RuntimeError("uvicorn exited before it started")
                await asyncio.sleep(0.02)
        yield Site(base=f"http://127.0.0.1:{port}", seed=seeded)
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await task


# --- the browser ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Watch:
    """Console errors, uncaught page errors and failed same-origin requests of one browser context."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} at {message.location}")

    def _same_origin(self, url: str) -> bool:
        return url == self.origin or url.startswith(self.origin + "/")

    def _failed(self, request: Request) -> None:
        # ERR_ABORTED: the browser cancelled the load itself, as when the test navigates on while the previous
        # page's favicon is still loading. A server failing shows as another error or as an HTTP status.
        if self._same_origin(request.url) and request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if self._same_origin(response.url) and response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def browser_pages(browser: Browser, site: Site) -> AsyncIterator[tuple[OpenPage, Watch]]:
    """``open_page(**context_options)`` gives a fresh context's page, watched; closed (and checked) after the test."""
    watch = Watch(origin=site.base)
    contexts: list[BrowserContext] = []

    async def open_page(**options: Any) -> Page:
        options.setdefault("viewport", VIEWPORT)
        options.setdefault("color_scheme", "light")
        options.setdefault("locale", "en-GB")
        options.setdefault("timezone_id", "UTC")
        context = await browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = await context.new_page()
        watch.attach(page)
        return page

    try:
        yield open_page, watch
        problems = list(watch.problems)
    finally:
        for context in contexts:
            await context.close()
    # Tests check explicitly at their end; this catches what happened after that check.
    assert problems == [], "\n".join(problems)
