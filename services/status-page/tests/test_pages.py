"""The overview page: banner, reports and maintenance first, groups and components with 90-day trackers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx

from openstatus_common.db.base import utcnow
from openstatus_common.db.models import StatusPage


def today_start() -> datetime:
    return datetime.combine(utcnow().date(), time(), UTC)


async def test_published_page_renders_with_html_escaped(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme", title="Acme <script>alert(1)</script>", description="<b>up</b>")
    response = await pages.get("/acme")
    assert response.status_code == 200
    assert "Acme &lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)" not in response.text
    assert "&lt;b&gt;up&lt;/b&gt;" in response.text
    assert "powered by openstatus.dev" in response.text
    assert "All Systems Operational" in response.text


async def test_white_label_hides_the_footer(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("plain", white_label=True)
    assert "powered by openstatus.dev" not in (await pages.get("/plain")).text


async def test_unknown_and_unpublished_pages_are_404(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("draft", published=False)
    assert (await pages.get("/draft")).status_code == 404
    assert (await pages.get("/nope")).status_code == 404
    assert (await pages.get("/")).status_code == 404


async def test_overview_shows_status_precedence_reports_and_maintenance(
    pages: httpx.AsyncClient, build: Any
) -> None:
    now = utcnow()
    await build.page("acme")
    api = await build.monitor("API")
    web = await build.monitor("Web")
    group = await build.group("Core services", order=1)
    c_api = await build.component(
        "Public API", monitor=api, group_id=group.id, created_at=now - timedelta(days=30)
    )
    c_web = await build.component(
        "Website", monitor=web, group_id=group.id, created_at=now - timedelta(days=30)
    )
    c_pay = await build.component("Payments <Stripe>", order=2, created_at=now - timedelta(days=30))
    await build.incident(api, now - timedelta(minutes=5))
    await build.report(
        "Slow website",
        [c_web, c_api],
        [("investigating", "Looking <b>into</b> it", now - timedelta(minutes=10))],
    )
    await build.maintenance("DB upgrade", [c_pay], now - timedelta(minutes=1), now + timedelta(hours=1))
    await build.maintenance(
        "Network work", [c_pay], now + timedelta(days=2), now + timedelta(days=2, hours=1)
    )

    text = (await pages.get("/acme")).text
    assert "Partial Outage" in text
    # Active report and maintenance come before the components.
    assert text.index("Slow website") < text.index("Core services")
    assert text.index("DB upgrade") < text.index("Core services")
    assert text.index("Network work") < text.index("Core services")
    assert "Looking &lt;b&gt;into&lt;/b&gt; it" in text
    assert "Payments &lt;Stripe&gt;" in text

    def status_of(name: str) -> str:
        section = text[text.index(f">{name}</h3>") :]
        found = re.search(r'class="pill s-(\w+)"', section)
        assert found
        return found.group(1)

    assert status_of("Public API") == "error"  # incident beats the report
    assert status_of("Website") == "degraded"  # unresolved report
    assert status_of("Payments &lt;Stripe&gt;") == "info"  # ongoing maintenance


async def test_tracker_has_ninety_days_and_no_data_is_not_green(pages: httpx.AsyncClient, build: Any) -> None:
    now = utcnow()
    await build.page("acme", locales=["en", "fr", "de"])
    api = await build.monitor("API")
    await build.component("API", monitor=api, created_at=now - timedelta(days=120))
    start = today_start()
    await build.day(api, start - timedelta(days=1), success=999, error=1)
    await build.day(api, start - timedelta(days=2), success=1000)

    text = (await pages.get("/acme")).text
    bars = re.findall(r'<li class="bar s-(\w+)"', text)
    assert len(bars) == 90
    assert bars[-2] == "degraded"  # a failed check shows, proportionally
    assert bars[-3] == "success"
    assert bars[0] == "empty"
    assert "No data" in text
    # 1999 of 2000 checks: floored, never rounded up to 100.
    assert "99.950% uptime" in text
    assert "1,000 ok, 0 degraded, 0 failed" in text
    # Numbers as each language writes them: "99.950%" reads as ninety-nine thousand to a German.
    french, german = (await pages.get("/acme/fr")).text, (await pages.get("/acme/de")).text
    assert "99,950\u00a0% disponibilité" in french and "1\u202f000 ok" in french
    assert "99,950\u00a0% Verfügbarkeit" in german and "1.000 ok" in german


async def test_locale_prefix_as_needed(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme", default_locale="en", locales=["en", "fr", "de"])
    french = await pages.get("/acme/fr")
    assert french.status_code == 200
    assert 'lang="fr"' in french.text
    assert "Tous les systèmes sont opérationnels" in french.text
    assert 'href="/acme/fr/events"' in french.text
    events = await pages.get("/acme/de/events")
    assert "Ereignisse" in events.text
    # The default locale has no prefix: /en/... redirects to the unprefixed path.
    redirect = await pages.get("/acme/en/events")
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "/acme/events"


async def test_locale_not_offered_falls_back(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("solo", default_locale="de", locales=[])
    assert "Alle Systeme betriebsbereit" in (await pages.get("/solo")).text
    assert (await pages.get("/solo/fr")).status_code == 307


async def test_subdomain_and_custom_domain_routing(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme", custom_domain="status.acme.com", title="Acme Status")
    by_subdomain = await pages.get("/events", headers={"host": "acme.status.test"})
    assert by_subdomain.status_code == 200
    assert 'href="/events"' in by_subdomain.text
    by_domain = await pages.get("/", headers={"host": "status.acme.com"})
    assert by_domain.status_code == 200
    assert "Acme Status" in by_domain.text
    assert (await pages.get("/", headers={"host": "nope.status.test"})).status_code == 404
    # An unknown host falls back to path routing.
    assert (await pages.get("/acme", headers={"host": "other.example"})).status_code == 200


async def test_an_unverified_custom_domain_is_not_served(
    pages: httpx.AsyncClient, pages_app: Any, build: Any
) -> None:
    """A claim without its DNS proof: the Host is not the page's (no squatting), the slug still is."""
    await build.page("squat", custom_domain="status.victim.com", custom_domain_verified_at=None, title="Fake")
    by_domain = await pages.get("/", headers={"host": "status.victim.com"})
    assert by_domain.status_code == 404
    assert "Fake" not in by_domain.text
    by_slug = await pages.get("/squat")
    assert by_slug.status_code == 200
    assert "status.victim.com" not in by_slug.text  # links use the slug address
    # The owner's verified page wins the domain, whoever claimed it first (the API's page.changed event).
    await build.page("victim", custom_domain="status.victim.com", title="Victim Status")
    pages_app.state.pages.store.invalidate_page(build.page_id)
    assert "Victim Status" in (await pages.get("/", headers={"host": "status.victim.com"})).text


async def test_the_uploaded_icon_is_the_favicon_and_the_headers_logo(
    pages: httpx.AsyncClient, build: Any
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    await build.page("acme", icon=png, icon_content_type="image/png", homepage_url="https://acme.example")
    home = (await pages.get("/acme")).text
    assert '<link rel="icon" href="/acme/favicon.ico">' in home
    assert re.search(
        r'<a href="https://acme.example" rel="noopener" class="title"><img class="logo" src="/acme/favicon.ico"',
        home,
    )
    icon = await pages.get("/acme/favicon.ico")
    assert icon.status_code == 200
    assert icon.content == png and icon.headers["content-type"] == "image/png"
    assert icon.headers["x-content-type-options"] == "nosniff"
    await build.page("plain")
    assert 'class="logo"' not in (await pages.get("/plain")).text
    default = await pages.get("/plain/favicon.ico")
    assert default.status_code == 307 and default.headers["location"] == "/_static/favicon.svg"


async def test_etag_and_not_modified(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme")
    first = await pages.get("/acme")
    etag = first.headers["etag"]
    again = await pages.get("/acme", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert "must-revalidate" in first.headers["cache-control"]


async def test_history_older_than_the_trackers_stays_reachable(pages: httpx.AsyncClient, build: Any) -> None:
    """Reports resolved and maintenances ended before the 90 days: an archive, and their links still work."""
    now = utcnow()
    await build.page("acme", locales=["en", "de"])
    c = await build.component("Payments", created_at=now - timedelta(days=400))
    recent = await build.report("Recent blip", [c], [("resolved", "Fine", now - timedelta(days=3))])
    old_reports = [
        await build.report(
            f"Old outage {n}",
            [c],
            [
                ("investigating", f"Looking {n}", now - timedelta(days=100 + n, hours=2)),
                ("resolved", f"Fixed {n}", now - timedelta(days=100 + n)),
            ],
        )
        for n in range(50)
    ]
    await build.maintenance(
        "Ancient upgrade", [c], now - timedelta(days=300, hours=1), now - timedelta(days=300)
    )

    events = await pages.get("/acme/events")
    assert "Recent blip" in events.text and "Old outage" not in events.text
    older = re.search(r'href="(/acme/events\?before=[^"]+)"', events.text)
    assert older is not None
    first = await pages.get(older.group(1).replace("&amp;", "&"))
    assert first.status_code == 200
    assert "Recent blip" not in first.text
    # The latest ended first, 50 to a page: the 50 reports, then the maintenance on the next page.
    assert first.text.index("Old outage 0<") < first.text.index("Old outage 1<")
    assert "Old outage 49<" in first.text and "Ancient upgrade" not in first.text
    second_link = re.search(r'href="(/acme/events\?before=[^"]+)"', first.text)
    assert second_link is not None
    second = await pages.get(second_link.group(1).replace("&amp;", "&"))
    assert "Ancient upgrade" in second.text and "Old outage" not in second.text
    assert "?before=" not in second.text  # the end of the history

    old = await pages.get(f"/acme/events/report/{old_reports[49].id}")
    assert old.status_code == 200
    assert "Looking 49" in old.text and "Fixed 49" in old.text
    assert (await pages.get(f"/acme/events/report/{recent.id}")).status_code == 200
    assert (await pages.get("/acme/events/report/999999")).status_code == 404
    # A report published after the page was cached (its mail already out) opens from its link at once.
    fresh = await build.report("Queue delays", [c], [("investigating", "Jobs wait", now)])
    opened = await pages.get(f"/acme/events/report/{fresh.id}")
    assert opened.status_code == 200 and "Jobs wait" in opened.text
    assert (await pages.get("/acme/events?before=yesterday")).status_code == 400
    assert "Ältere Ereignisse" in (await pages.get("/acme/de/events")).text


async def test_the_archive_skips_nothing_that_ended_at_the_same_moment(
    pages: httpx.AsyncClient, build: Any
) -> None:
    """Round end times are common: 51 maintenances and 3 reports ending at one moment span two pages."""
    now = utcnow()
    ended = (now - timedelta(days=120)).replace(minute=0, second=0, microsecond=0)
    await build.page("acme")
    c = await build.component("Payments", created_at=now - timedelta(days=400))
    for n in range(51):
        await build.maintenance(f"Window {n:02d}", [c], ended - timedelta(hours=1), ended)
    for n in range(3):
        await build.report(f"Report {n}", [c], [("resolved", "Done", ended)])
    seen: list[str] = []
    link: str | None = "/acme/events?before=" + (now - timedelta(days=100)).isoformat().replace("+", "%2B")
    while link is not None:
        page = await pages.get(link)
        assert page.status_code == 200, page.text
        seen += re.findall(r"<h3>(?:<a [^>]*>)?((?:Window|Report) \d+)<", page.text)
        found = re.search(r'href="(/acme/events\?before=[^"]+)"', page.text)
        link = found.group(1).replace("&amp;", "&") if found else None
    assert len(seen) == len(set(seen)) == 54


async def test_errors_inside_a_page_keep_its_language_theme_and_a_way_back(
    pages: httpx.AsyncClient, build: Any
) -> None:
    await build.page("acme", title="Acme Status", locales=["en", "fr"], theme="supabase")
    for path, status in (("/acme/fr/nope", 404), ("/acme/fr/events/report/999999", 404)):
        answer = await pages.get(path)
        assert answer.status_code == status, path
        assert '<html lang="fr" data-theme="supabase"' in answer.text
        assert "<h1>Introuvable</h1>" in answer.text and "Acme Status" in answer.text
        assert 'href="/acme/fr">Retour</a>' in answer.text
        assert answer.headers["cache-control"] == "no-store"
    bad = await pages.get("/acme/events?before=%3Cscript%3E")
    assert bad.status_code == 400
    assert "<h1>Bad request</h1>" in bad.text and "before: expected an ISO 8601 date and time" in bad.text
    # No page: the plain error.
    assert (await pages.get("/nobody/events")).status_code == 404


async def test_bad_archive_cursors_are_a_400(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme")
    assert "?before=" not in (await pages.get("/acme/events")).text  # nothing older: no archive link
    for query in ("before=yesterday", "before=0001-01-01T00:00:00%2B01:00", "before=2020-01-01&last=page-1"):
        assert (await pages.get(f"/acme/events?{query}")).status_code == 400, query


async def test_a_renamed_slug_stops_answering(pages: httpx.AsyncClient, pages_app: Any, build: Any) -> None:
    page_id = await build.page("old-name")
    assert (await pages.get("/old-name")).status_code == 200
    async with build.sessions() as session, session.begin():
        (await session.get_one(StatusPage, page_id)).slug = "new-name"
    pages_app.state.pages.store.invalidate_page(page_id)  # the API's page.changed event
    assert (await pages.get("/old-name")).status_code == 404
    assert (await pages.get("/new-name")).status_code == 200


async def test_events_and_report_pages(pages: httpx.AsyncClient, build: Any) -> None:
    now = utcnow()
    await build.page("acme")
    c = await build.component("Payments", created_at=now - timedelta(days=10))
    report = await build.report(
        "Card declines",
        [c],
        [
            ("investigating", "We are looking", now - timedelta(days=2, hours=2)),
            ("resolved", "Fixed", now - timedelta(days=2)),
        ],
    )
    await build.report("Slow logins", [c], [("identified", "A cache is cold", now - timedelta(minutes=20))])
    await build.maintenance("Database upgrade", [c], now - timedelta(minutes=5), now + timedelta(hours=1))
    events = await pages.get("/acme/events")

    def section(heading_id: str) -> str:
        found = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', events.text, re.S)
        return found.group(1) if found else ""

    # What is still going on has its own sections; "Past events" holds only what is over.
    assert "Slow logins" in section("active-h") and "Ongoing incidents" in section("active-h")
    assert "Database upgrade" in section("ongoing-h")
    past = section("past-h")
    assert "Card declines" in past
    assert "Slow logins" not in past and "Database upgrade" not in past
    detail = await pages.get(f"/acme/events/report/{report.id}")
    assert detail.status_code == 200
    assert "We are looking" in detail.text and "Fixed" in detail.text
    assert (await pages.get("/acme/events/report/999999")).status_code == 404


async def test_embed_sections(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme", description="Our services")
    await build.component("Payments")
    full = (await pages.get("/acme?embed")).text
    assert "Our services" in full and "Payments" in full
    assert "<nav" not in full and "Subscribe" not in full
    only_title = (await pages.get("/acme?embed=TITLE,unknown")).text
    assert "Our services" in only_title and "Payments" not in only_title
    fallback = (await pages.get("/acme?embed=,nope")).text
    assert "Payments" in fallback and "Our services" in fallback
    dark = (await pages.get("/acme?embed=all&theme=dark")).text
    assert 'data-scheme="dark"' in dark
    ignored = (await pages.get("/acme?theme=dark")).text
    assert 'data-scheme="system"' in ignored


async def test_a_component_with_an_open_incident_says_since_when(
    pages: httpx.AsyncClient, build: Any
) -> None:
    now = utcnow()
    await build.page("acme", locales=["en", "de"])
    api = await build.monitor("API")
    web = await build.monitor("Web")
    await build.component("API", monitor=api)
    await build.component("Web", monitor=web)
    await build.incident(api, now - timedelta(minutes=42))
    await build.incident(web, now - timedelta(hours=3), now - timedelta(hours=2))  # over
    text = (await pages.get("/acme")).text
    assert text.count("Outage since") == 1
    since = re.search(r'Outage since <time datetime="([^"]+)"', text)
    assert since is not None
    assert abs(datetime.fromisoformat(since.group(1)) - (now - timedelta(minutes=42))) < timedelta(seconds=1)
    assert "Ausfall seit" in (await pages.get("/acme/de")).text


async def test_embedded_feed_lists_past_maintenance_without_saying_there_is_nothing(
    pages: httpx.AsyncClient, build: Any
) -> None:
    now = utcnow()
    await build.page("acme")
    c = await build.component("Payments")
    await build.maintenance(
        "Database upgrade", [c], now - timedelta(days=2, hours=1), now - timedelta(days=2)
    )
    feed = (await pages.get("/acme?embed=feed")).text
    assert "Database upgrade" in feed
    assert "No incidents or maintenance reported." not in feed
    await build.page("quiet")
    assert "No incidents or maintenance reported." in (await pages.get("/quiet?embed=feed")).text


async def test_links_out_of_an_embed_open_a_new_tab(pages: httpx.AsyncClient, build: Any) -> None:
    now = utcnow()
    await build.page("acme")
    c = await build.component("Payments")
    report = await build.report("Declines", [c], [("resolved", "Fixed", now - timedelta(hours=1))])
    embedded = (await pages.get(f"/acme/events/report/{report.id}?embed")).text
    assert re.search(r'<a href="/acme/events" target="_blank">', embedded)
    framed_elsewhere = (await pages.get(f"/acme/events/report/{report.id}")).text
    assert re.search(r'<a href="/acme/events">', framed_elsewhere)


async def test_public_status_widget(pages: httpx.AsyncClient, build: Any) -> None:
    now = utcnow()
    await build.page("acme")
    c = await build.component("Payments")
    assert (await pages.get("/public/status/acme")).json() == {"status": "operational"}
    await build.report("Declines", [c], [("investigating", "x", now)])
    # Without an event the cache still holds the old state until its time runs out; the freshness test covers
    # invalidation. A new slug lookup shows the live state.
    assert (await pages.get("/public/status/nope")).json() == {"status": "unknown"}


async def test_monitors_page_shows_public_monitors_only(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme")
    public = await build.monitor("Public one", public=True)
    private = await build.monitor("Private one", public=False)
    await build.component("Shown API", monitor=public)
    await build.component("Hidden API", monitor=private)
    await build.day(public, today_start(), success=10)
    text = (await pages.get("/acme/monitors")).text
    assert "Shown API" in text and "Hidden API" not in text
    assert "<svg" in text
    # The numbers are written out, not only drawn: the latest day's p50 and p95, and the scale.
    legend = re.search(r'<figcaption class="chart-legend">(.*?)</figcaption>', text, re.S)
    assert legend is not None
    assert re.search(r"p50 \d+ ms", legend.group(1)) and re.search(r"p95 \d+ ms", legend.group(1))
    assert "0 ms</span>" in text
