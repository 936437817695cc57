"""The public status page in a real browser (issue #5): headless Debian Chromium driven by Playwright.

A page with two groups, an active report, an ongoing and an upcoming maintenance and an incident is served over
real HTTP; the tests read it as a visitor would: banner and sections, tracker cards by keyboard and by mouse,
the language menu, the theme toggle (and its persistence), embeds, keyboard reachability of every control, and
the page without JavaScript. No test may leave a console error, an uncaught exception or a failed same-origin
request behind. Screenshots land in ``tests/browser/artifacts`` (or ``$BROWSER_ARTIFACTS``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import PageSubscriber, StatusPage
from openstatus_common.pages import subscribers
from status_page.i18n import Translator

pytestmark = [
    pytest.mark.browser,
    # Browser tests exercise the page, not the database: SQLite only.
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]

TRACKER_DAYS = 90
LIGHT_BG = "rgb(255, 255, 255)"
DARK_BG = "rgb(10, 10, 10)"
EN = Translator("en")


def url_re(site: Any, path: str = "") -> re.Pattern[str]:
    """The full URL of ``/<slug><path>``, with an optional query string."""
    return re.compile("^" + re.escape(site.url(path)) + r"(\?.*)?$")


async def background(page: Page) -> str:
    color: str = await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    return color


async def scheme(page: Page) -> str | None:
    value: str | None = await page.evaluate("document.documentElement.dataset.scheme ?? null")
    return value


def tracker_of(page: Page, component: str) -> Locator:
    """The tracker of the component whose heading is ``component``."""
    return (
        page.locator("section.component")
        .filter(has=page.get_by_role("heading", name=component, exact=True))
        .locator("[data-tracker]")
    )


async def tab_until_bar(page: Page, limit: int = 60) -> None:
    """Press Tab until a tracker day has focus."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.matches('.bar')"):
            return
    raise AssertionError(f"no tracker day reached in {limit} Tab presses")


async def test_overview_renders_banner_reports_maintenance_and_groups(
    browser_pages: Any, site: Any, artifacts: Any
) -> None:
    open_page, watch = browser_pages
    seed = site.seed
    page = await open_page()
    response = await page.goto(site.url())
    assert response is not None and response.status == 200
    await expect(page).to_have_title(seed.title)
    await expect(page.locator("html")).to_have_attribute("lang", "en")

    banner = page.locator("section.banner")
    await expect(banner.locator("h2")).to_have_text("Degraded Performance")
    await expect(banner).to_have_class(re.compile(r"\bs-degraded\b"))

    active = page.locator("section[aria-labelledby=active-h]")
    await expect(active.get_by_role("heading", name="Ongoing incidents")).to_be_visible()
    await expect(active.get_by_role("link", name=seed.active_report)).to_be_visible()
    # The active report shows its whole timeline, newest first.
    await expect(active.locator(".timeline li")).to_have_count(2)
    await expect(active.locator(".timeline li").first).to_contain_text("Identified")
    await expect(active).to_contain_text("Affected: Website")
    ongoing = page.locator("section[aria-labelledby=ongoing-h]")
    await expect(ongoing.get_by_role("heading", name=seed.ongoing_maintenance)).to_be_visible()
    await expect(ongoing).to_contain_text("Card payments may retry.")
    upcoming = page.locator("section[aria-labelledby=upcoming-h]")
    await expect(upcoming.get_by_role("heading", name=seed.upcoming_maintenance)).to_be_visible()
    # The resolved report is history: only in its day's tracker card, hidden until that day is shown.
    await expect(active.get_by_text(seed.past_report)).to_have_count(0)
    await expect(page.get_by_text(seed.past_report)).to_be_hidden()

    for group in seed.groups:
        summary = page.locator("details.group > summary").filter(has_text=group)
        await expect(summary).to_be_visible()
        await expect(summary.locator("xpath=..")).to_have_attribute("open", "")
    for component in seed.components:
        await expect(page.get_by_role("heading", name=component, exact=True)).to_be_visible()
        await expect(tracker_of(page, component).locator(".bar")).to_have_count(TRACKER_DAYS)

    def pill(component: str) -> Locator:
        return (
            page.locator("section.component")
            .filter(has=page.get_by_role("heading", name=component, exact=True))
            .locator(".component-head .pill")
        )

    await expect(pill("Website")).to_have_text("Degraded")  # the unresolved report
    await expect(pill("Payments")).to_have_text("Maintenance")  # the ongoing maintenance
    await expect(pill("Public API")).to_have_text("Operational")  # its incident is resolved
    # Reports and maintenance come before the components.
    first_group = await page.locator("details.group").first.bounding_box()
    for section in (active, ongoing, upcoming):
        box = await section.bounding_box()
        assert box is not None and first_group is not None and box["y"] < first_group["y"]

    await page.screenshot(path=artifacts / "overview-light.png", full_page=True)

    # The report's link opens its page with the full timeline.
    await active.get_by_role("link", name=seed.active_report).click()
    await expect(page).to_have_url(re.compile(re.escape(site.url("/events/report/")) + r"\d+$"))
    await expect(page.get_by_text("A cache node is overloaded; we are adding capacity.")).to_be_visible()
    await expect(page.get_by_text("We are looking into slow responses.")).to_be_visible()
    watch.assert_clean()


async def test_tracker_card_by_keyboard_and_mouse(browser_pages: Any, site: Any, artifacts: Any) -> None:
    open_page, watch = browser_pages
    page = await open_page()
    await page.goto(site.url())
    today = utcnow().date()

    # Tab reaches the first tracker at its one tab stop: today, the last day.
    await tab_until_bar(page)
    api_bars = tracker_of(page, "Public API").locator(".bar")
    focused = page.locator(".bar:focus")
    await expect(focused).to_have_count(1)
    await expect(api_bars.nth(TRACKER_DAYS - 1)).to_be_focused()
    card = focused.locator(".card")
    await expect(card).to_be_visible()
    await expect(card).to_contain_text(EN.date(today))
    await expect(card).to_contain_text(re.compile(r"\d+\.\d{3}% uptime"))
    await expect(card).to_have_attribute("role", "tooltip")
    await expect(focused).to_have_attribute("aria-describedby", await card.get_attribute("id") or "")

    # ArrowLeft: yesterday, with its card; today's card closes and today leaves the tab order.
    await page.keyboard.press("ArrowLeft")
    await expect(api_bars.nth(TRACKER_DAYS - 2)).to_be_focused()
    yesterday = api_bars.nth(TRACKER_DAYS - 2).locator(".card")
    await expect(yesterday).to_be_visible()
    await expect(yesterday).to_contain_text(EN.date(today - timedelta(days=1)))
    await expect(yesterday).to_contain_text("100.000% uptime")
    await expect(api_bars.nth(TRACKER_DAYS - 1).locator(".card")).to_be_hidden()
    await expect(api_bars.nth(TRACKER_DAYS - 1)).to_have_attribute("tabindex", "-1")
    await expect(api_bars.nth(TRACKER_DAYS - 2)).to_have_attribute("tabindex", "0")

    # Two days ago had failed checks and a 15-minute incident.
    await page.keyboard.press("ArrowLeft")
    two_days = api_bars.nth(TRACKER_DAYS - 3)
    await expect(two_days).to_be_focused()
    await expect(two_days).not_to_have_class(re.compile(r"\bs-success\b"))
    await expect(two_days.locator(".card")).to_contain_text(EN.date(today - timedelta(days=2)))
    await expect(two_days.locator(".card")).to_contain_text("1,420 ok, 5 degraded, 15 failed")
    # Escape dismisses the card (it may cover the row below) and keeps focus; moving on shows the next one.
    await page.keyboard.press("Escape")
    await expect(two_days.locator(".card")).to_be_hidden()
    await expect(two_days).to_be_focused()
    await page.keyboard.press("ArrowRight")
    await expect(yesterday).to_be_visible()
    await page.keyboard.press("ArrowLeft")
    await expect(two_days.locator(".card")).to_be_visible()
    await expect(two_days.locator(".card .happening.k-incident")).to_contain_text("15m")
    await page.screenshot(path=artifacts / "tracker-card-focused.png")

    # Home: the oldest day, before the history began: "No data", and not green.
    await page.keyboard.press("Home")
    oldest = api_bars.first
    await expect(oldest).to_be_focused()
    await expect(oldest).to_have_class(re.compile(r"\bs-empty\b"))
    await expect(oldest.locator(".card")).to_be_visible()
    await expect(oldest.locator(".card")).to_contain_text(EN.date(today - timedelta(days=TRACKER_DAYS - 1)))
    await expect(oldest.locator(".card")).to_contain_text("No data")
    # The card stays inside the viewport horizontally (left-aligned at the start of a tracker).
    box = await oldest.locator(".card").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]  # type: ignore[index]

    # Roving tabindex: leaving the tracker and coming back returns to the day last focused.
    await page.keyboard.press("Tab")
    await expect(oldest).not_to_be_focused()
    await page.keyboard.press("Shift+Tab")
    await expect(oldest).to_be_focused()
    await page.keyboard.press("End")
    await expect(api_bars.last).to_be_focused()
    await page.keyboard.press("ArrowRight")  # already the last day: stays
    await expect(api_bars.last).to_be_focused()

    # The mouse: hovering a day of another tracker shows that day's card.
    await page.evaluate("document.activeElement.blur()")
    db_bar = tracker_of(page, "Primary database").locator(".bar").nth(TRACKER_DAYS - 11)
    await expect(db_bar.locator(".card")).to_be_hidden()
    await db_bar.hover()
    hovered = db_bar.locator(".card")
    await expect(hovered).to_be_visible()
    await expect(hovered).to_contain_text(EN.date(today - timedelta(days=10)))
    await expect(hovered).to_contain_text("100.000% uptime")
    await expect(hovered).to_contain_text("1,440 ok, 0 degraded, 0 failed")
    await page.screenshot(path=artifacts / "tracker-card-hover.png")
    # Escape dismisses a hovered card too, with the pointer still on the day; pointing at a day shows its card.
    await page.keyboard.press("Escape")
    await expect(hovered).to_be_hidden()
    neighbour = tracker_of(page, "Primary database").locator(".bar").nth(TRACKER_DAYS - 12)
    await neighbour.hover()
    await expect(neighbour.locator(".card")).to_be_visible()
    await page.mouse.move(0, 0)
    await expect(hovered).to_be_hidden()
    watch.assert_clean()


async def test_locale_switch_and_french_events(browser_pages: Any, site: Any, artifacts: Any) -> None:
    open_page, watch = browser_pages
    seed = site.seed
    page = await open_page()
    await page.goto(site.url())
    menu = page.locator("details.locale-menu")
    summary = menu.locator("summary")
    await expect(summary).to_have_text("EN")
    await expect(summary).to_have_attribute("aria-label", "Language")
    french = menu.get_by_role("link", name="Français")
    await expect(french).to_be_hidden()
    await summary.click()
    await expect(menu).to_have_attribute("open", "")
    await expect(menu.get_by_role("link")).to_have_count(3)
    await expect(menu.get_by_role("link", name="English")).to_have_attribute("aria-current", "true")
    await french.click()

    await expect(page).to_have_url(url_re(site, "/fr"))
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.locator("section.banner h2")).to_have_text("Performances dégradées")
    await expect(page.locator("details.locale-menu summary")).to_have_text("FR")
    await expect(page.get_by_role("heading", name=seed.active_report)).to_be_visible()

    # The events page, in French, by its nav link.
    await page.get_by_role("navigation").get_by_role("link", name="Événements").click()
    await expect(page).to_have_url(url_re(site, "/fr/events"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Événements")
    await expect(page.get_by_role("link", name=seed.past_report)).to_be_visible()
    await expect(page.get_by_role("heading", name=seed.upcoming_maintenance)).to_be_visible()
    await expect(page.get_by_role("navigation").get_by_role("link", name="Événements")).to_have_attribute(
        "aria-current", "page"
    )
    await page.screenshot(path=artifacts / "events-fr.png", full_page=True)

    # The menu keeps the route: German events, then English (the default locale has no prefix).
    await page.locator("details.locale-menu summary").click()
    await page.locator("details.locale-menu").get_by_role("link", name="Deutsch").click()
    await expect(page).to_have_url(url_re(site, "/de/events"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ereignisse")
    await page.locator("details.locale-menu summary").click()
    await page.locator("details.locale-menu").get_by_role("link", name="English").click()
    await expect(page).to_have_url(url_re(site, "/events"))
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Events")
    watch.assert_clean()


async def test_theme_toggle_cycles_persists_and_embed_forces_dark(
    browser_pages: Any, site: Any, artifacts: Any
) -> None:
    open_page, watch = browser_pages
    page = await open_page(color_scheme="light")
    await page.goto(site.url())
    toggle = page.locator("[data-theme-toggle]")
    root = page.locator("html")
    await expect(root).to_have_attribute("data-scheme", "system")
    await expect(toggle).to_have_attribute("aria-label", "Theme: System")
    assert await background(page) == LIGHT_BG  # system, and the visitor prefers light

    # The first click changes what the visitor sees: a light system goes dark.
    await toggle.click()
    await expect(root).to_have_attribute("data-scheme", "dark")
    await expect(toggle).to_have_attribute("aria-label", "Theme: Dark")
    dark = await background(page)
    await page.screenshot(path=artifacts / "overview-dark.png", full_page=True)
    await toggle.click()
    await expect(root).to_have_attribute("data-scheme", "light")
    await expect(toggle).to_have_attribute("aria-label", "Theme: Light")
    light = await background(page)
    assert light == LIGHT_BG
    assert dark == DARK_BG
    await toggle.click()
    await expect(root).to_have_attribute("data-scheme", "system")

    # The choice survives a reload (localStorage).
    await toggle.click()
    await expect(root).to_have_attribute("data-scheme", "dark")
    assert await page.evaluate("localStorage.getItem('openstatus-scheme')") == "dark"
    await page.reload()
    await expect(root).to_have_attribute("data-scheme", "dark")
    await expect(toggle).to_have_attribute("aria-label", "Theme: Dark")
    assert await background(page) == DARK_BG

    # "system" follows the visitor's preference.
    await toggle.click()
    await toggle.click()
    await expect(root).to_have_attribute("data-scheme", "system")
    await page.emulate_media(color_scheme="dark")
    assert await background(page) == DARK_BG
    # A dark system's first click goes light.
    await toggle.click()
    await expect(root).to_have_attribute("data-scheme", "light")
    await toggle.click()
    await toggle.click()
    await expect(root).to_have_attribute("data-scheme", "system")
    await page.emulate_media(color_scheme="light")
    assert await background(page) == LIGHT_BG

    # An embed with theme=dark is dark whatever was saved, and has no header (nor toggle, nor subscribe form).
    await page.evaluate("localStorage.setItem('openstatus-scheme', 'light')")
    await page.goto(site.url("?embed=all&theme=dark"))
    await expect(root).to_have_attribute("data-scheme", "dark")
    await expect(root).to_have_attribute("data-forced", "1")
    await expect(root).to_have_attribute("data-embed", "1")
    assert await background(page) == DARK_BG
    await expect(page.locator("header")).to_have_count(0)
    await expect(page.locator("[data-theme-toggle]")).to_have_count(0)
    await expect(page.locator("form")).to_have_count(0)
    await expect(page.locator("section.banner")).to_be_visible()
    await expect(page.get_by_role("heading", name="Public API", exact=True)).to_be_visible()
    await page.screenshot(path=artifacts / "embed-dark.png", full_page=True)
    # theme= is only honoured in embeds: the saved choice wins on the plain page.
    await page.goto(site.url("?theme=dark"))
    await expect(root).to_have_attribute("data-scheme", "light")
    await expect(page.locator("header")).to_be_visible()
    watch.assert_clean()


VISIBLE_INTERACTIVE = """() => {
  const selector = 'a[href], button, summary, input, select, textarea, [tabindex="0"]';
  // checkVisibility: also false inside a closed <details> (content-visibility: hidden), where boxes remain.
  const visible = (el) => el.getClientRects().length > 0 && el.checkVisibility({ visibilityProperty: true });
  const out = [];
  document.querySelectorAll(selector).forEach((el, i) => {
    if (!visible(el) || el.disabled || el.tabIndex < 0) return;
    el.dataset.kb = String(i);
    out.push(String(i));
  });
  document.querySelectorAll('[data-tracker]').forEach((tracker, t) => {
    tracker.dataset.kbTracker = String(t);
  });
  return out;
}"""

ACTIVE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const tracker = el.closest('[data-tracker]');
  const style = getComputedStyle(el);
  return {
    kb: el.dataset.kb ?? null,
    tag: el.tagName.toLowerCase(),
    text: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40),
    tracker: tracker ? tracker.dataset.kbTracker : null,
    outline: style.outlineStyle,
  };
}"""


async def test_keyboard_reaches_every_interactive_element(browser_pages: Any, site: Any) -> None:
    open_page, watch = browser_pages
    page = await open_page()
    await page.goto(site.url())
    expected: list[str] = await page.evaluate(VISIBLE_INTERACTIVE)
    trackers = await page.locator("[data-tracker]").count()
    assert trackers == len(site.seed.components)
    assert len(expected) > 15

    visited: list[dict[str, Any]] = []
    for _ in range(400):
        await page.keyboard.press("Tab")
        active = await page.evaluate(ACTIVE)
        if active is None:
            continue  # focus left the document for a moment before cycling back
        if visited and active["kb"] is not None and active["kb"] == visited[0]["kb"]:
            break
        visited.append(active)
    else:
        raise AssertionError(
            f"Tab never cycled back to the first element: {[v['text'] for v in visited][:60]}"
        )

    reached = [v["kb"] for v in visited]
    assert None not in reached, f"focus landed on elements that are not visible interactive ones: {visited}"
    assert len(reached) == len(set(reached)), f"an element was focused twice in one cycle: {reached}"
    missing = sorted(set(expected) - set(reached), key=int)
    assert not missing, f"not reachable by Tab: {missing}"
    assert set(reached) == set(expected)

    # Each tracker is exactly one tab stop (roving tabindex), and every tracker has one.
    per_tracker: dict[str, int] = {}
    for v in visited:
        if v["tracker"] is not None:
            per_tracker[v["tracker"]] = per_tracker.get(v["tracker"], 0) + 1
    assert per_tracker == {str(t): 1 for t in range(trackers)}

    # The skip link comes first and the focus is always visible.
    assert visited[0]["tag"] == "a" and visited[0]["text"] == "Skip to content"
    unoutlined = [v for v in visited if v["outline"] == "none"]
    assert not unoutlined, f"focused without a visible outline: {unoutlined}"
    # Order: header, then the report, the groups and their trackers, the subscribe form and the footer.
    tags = [v["tag"] for v in visited]
    assert (
        tags.index("summary")
        < tags.index("li")
        < tags.index("input")
        < tags.index("button", tags.index("input"))
    )
    watch.assert_clean()


async def test_page_works_without_javascript(browser_pages: Any, site: Any, artifacts: Any) -> None:
    open_page, watch = browser_pages
    seed = site.seed
    page = await open_page(java_script_enabled=False)
    await page.goto(site.url())
    await expect(page.locator("section.banner h2")).to_have_text("Degraded Performance")
    await expect(page.get_by_role("link", name=seed.active_report)).to_be_visible()
    for component in seed.components:
        await expect(page.get_by_role("heading", name=component, exact=True)).to_be_visible()
    # Without the script the scheme is the page's own, and the toggle is inert but harmless.
    await expect(page.locator("html")).to_have_attribute("data-scheme", "system")

    # The tracker card is pure CSS: hover shows it ...
    bar = tracker_of(page, "Website").locator(".bar").nth(TRACKER_DAYS - 4)
    await bar.hover()
    await expect(bar.locator(".card")).to_be_visible()
    await expect(bar.locator(".card")).to_contain_text(EN.date(utcnow().date() - timedelta(days=3)))
    await expect(bar.locator(".card")).to_contain_text("100.000% uptime")
    await page.screenshot(path=artifacts / "no-js-tracker-card.png")
    await page.mouse.move(0, 0)
    await expect(bar.locator(".card")).to_be_hidden()
    # ... and so does keyboard focus on a tracker's tab stop.
    await tab_until_bar(page)
    await expect(page.locator(".bar:focus .card")).to_be_visible()

    # The language menu is a native <details>: it works too.
    await page.locator("details.locale-menu summary").click()
    await page.locator("details.locale-menu").get_by_role("link", name="Deutsch").click()
    await expect(page).to_have_url(url_re(site, "/de"))
    await expect(page.locator("section.banner h2")).to_have_text("Eingeschränkte Leistung")
    watch.assert_clean()


# --- defects found by these tests, fixed: keep them fixed -------

ROVING_STOPS = """(tracker) => {
  const bars = [...tracker.querySelectorAll('.bar')];
  return bars.filter((b) => b.tabIndex === 0).map((b) => bars.indexOf(b));
}"""


async def test_roving_tabindex_keeps_one_stop_after_a_click(browser_pages: Any, site: Any) -> None:
    open_page, watch = browser_pages
    page = await open_page()
    await page.goto(site.url())
    tracker = tracker_of(page, "Public API")
    await tracker.locator(".bar").nth(50).click()
    await expect(tracker.locator(".bar").nth(50)).to_be_focused()
    await page.keyboard.press("ArrowLeft")
    await expect(tracker.locator(".bar").nth(49)).to_be_focused()
    watch.assert_clean()
    assert await tracker.evaluate(ROVING_STOPS) == [49]


NARROW = {"width": 375, "height": 800}


async def test_narrow_viewport_keyboard_stays_on_visible_days(browser_pages: Any, site: Any) -> None:
    open_page, watch = browser_pages
    page = await open_page(viewport=NARROW)
    await page.goto(site.url())
    tracker = tracker_of(page, "Public API")
    bars = tracker.locator(".bar")
    await expect(bars.nth(TRACKER_DAYS - 31)).to_be_hidden()  # only the last 30 days are shown
    await expect(bars.nth(TRACKER_DAYS - 30)).to_be_visible()
    await tab_until_bar(page)
    await expect(bars.last).to_be_focused()
    await page.keyboard.press("Home")
    watch.assert_clean()
    # Home lands on the oldest *visible* day, which keeps the tracker's one tab stop.
    await expect(bars.nth(TRACKER_DAYS - 30)).to_be_focused(timeout=2_000)
    assert await tracker.evaluate(ROVING_STOPS) == [TRACKER_DAYS - 30]


async def test_narrow_viewport_card_stays_on_screen(browser_pages: Any, site: Any, artifacts: Any) -> None:
    open_page, watch = browser_pages
    page = await open_page(viewport=NARROW)
    await page.goto(site.url())
    bar = tracker_of(page, "Public API").locator(".bar").nth(TRACKER_DAYS - 30)
    await bar.hover()
    card = bar.locator(".card")
    await expect(card).to_be_visible()
    await page.screenshot(path=artifacts / "narrow-tracker-card.png")
    watch.assert_clean()
    box = await card.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], f"card off screen: {box}"


BANNER_COLOURS = """() => {
  const banner = document.querySelector('section.banner');
  const title = banner.querySelector('h2');
  const out = {};
  for (const status of ['operational', 'degraded', 'partial_outage', 'major_outage', 'maintenance', 'unknown']) {
    banner.className = 'banner s-' + status;
    out[status] = [getComputedStyle(title).color, getComputedStyle(banner).backgroundColor];
  }
  return out;
}"""


def _luminance(css: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css)[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_banner_text_is_readable_in_every_theme_and_scheme(browser_pages: Any, site: Any) -> None:
    """WCAG AA (4.5:1) for the banner's title on each status colour, in all three themes, light and dark."""
    open_page, watch = browser_pages
    page = await open_page()
    await page.goto(site.url())
    failures = []
    for theme in ("default", "supabase", "github-high-contrast"):
        for scheme in ("light", "dark"):
            await page.evaluate(
                "([theme, scheme]) => { const r = document.documentElement;"
                " r.setAttribute('data-theme', theme); r.setAttribute('data-scheme', scheme); }",
                [theme, scheme],
            )
            colours = await page.evaluate(BANNER_COLOURS)
            for status, (foreground, background) in colours.items():
                ratio = contrast(foreground, background)
                if ratio < 4.5:
                    failures.append(f"{theme}/{scheme}/{status}: {foreground} on {background} = {ratio:.2f}")
    assert not failures, failures
    watch.assert_clean()


async def test_the_mail_buttons_and_the_retry_form_work_in_a_browser(
    browser_pages: Any, site: Any, sessions: Any
) -> None:
    """The confirm and unsubscribe pages carry a secret in their address, so they keep it from other sites;
    their buttons post back to the page itself, which a real browser must be allowed to do."""
    open_page, watch = browser_pages
    async with unit_of_work(sessions) as session:
        page_id = (
            await session.execute(select(StatusPage.id).where(StatusPage.slug == site.seed.slug))
        ).scalar_one()
        subscriber, _ = await subscribers.subscribe(session, page_id, "reader@example.com", confirmed=False)
        token, subscriber_id = subscriber.token, subscriber.id

    async def state() -> tuple[object, object]:
        async with sessions() as session:
            row = await session.get_one(PageSubscriber, subscriber_id)
            return row.accepted_at, row.unsubscribed_at

    page = await open_page()
    await page.goto(site.url(f"/confirm/{token}"))
    await page.get_by_role("button", name="Confirm subscription").click()
    await expect(page.get_by_role("status")).to_have_text("You are subscribed to updates.")
    accepted, left = await state()
    assert accepted is not None and left is None

    await page.goto(site.url(f"/unsubscribe/{token}"))
    await page.locator("main form button[type=submit]").click()
    await expect(page.get_by_role("status")).to_have_text("You will no longer receive updates.")
    assert (await state())[1] is not None

    # A refused address gets the form again, and the corrected one goes through.
    await page.goto(site.url())
    await page.get_by_label("Email address").fill("a@b")
    await page.get_by_role("button", name="Subscribe").click()
    await expect(page.get_by_role("status")).not_to_have_text(
        "Check your inbox to confirm your subscription."
    )
    await expect(page.get_by_role("status")).to_have_text(EN("subscribe.bad_email"))
    assert watch.problems and all("400" in problem for problem in watch.problems), watch.problems
    watch.problems.clear()
    await page.locator("main").get_by_label("Email address").fill("reader2@example.com")
    await page.locator("main").get_by_role("button", name="Subscribe").click()
    await expect(page.get_by_role("status")).to_have_text("Check your inbox to confirm your subscription.")
    watch.assert_clean()
