"""RSS, Atom and JSON feeds, and the Statuspage-compatible summary: well-formed, escaped, cached, gated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import feedparser
import httpx

from openstatus_common.db.base import utcnow

EVIL = "Outage <script>alert(1)</script> & more"
ROOT = "http://localhost/acme"


async def seed(build: Any, **page: Any) -> dict[str, Any]:
    """A page with a monitor component (in a group), a static one, an unresolved report on the monitor
    component (two updates), an older resolved report, and an upcoming maintenance on the static one."""
    now = utcnow()
    await build.page("acme", title="Acme Status", description="Acme & friends", **page)
    monitor = await build.monitor("API")
    group = await build.group("Backend", order=1)
    api = await build.component("API", monitor=monitor, group_id=group.id, order=1)
    web = await build.component("Website", order=0)
    report = await build.report(
        EVIL,
        [api],
        [
            ("investigating", "We are <b>looking</b>\ninto it", now - timedelta(hours=2)),
            ("monitoring", "A fix is out", now - timedelta(hours=1)),
        ],
    )
    old = await build.report(
        "Old hiccup",
        [web],
        [
            ("investigating", "Slow", now - timedelta(days=3, hours=1)),
            ("resolved", "Fine again", now - timedelta(days=3)),
        ],
    )
    maintenance = await build.maintenance(
        "Database upgrade",
        [web],
        now + timedelta(days=1),
        now + timedelta(days=1, hours=2),
        message="Expect <i>short</i> blips",
    )
    return {
        "monitor": monitor,
        "group": group,
        "api": api,
        "web": web,
        "report": report,
        "old": old,
        "maintenance": maintenance,
    }


# --- RSS and Atom ---------------------------------------------------------------------------------------------


async def test_rss_parses_cleanly_with_one_item_per_update_and_maintenance(
    pages: httpx.AsyncClient, build: Any
) -> None:
    data = await seed(build)
    response = await pages.get("/acme/feed/rss")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "Acme Status"
    assert feed.feed.link == ROOT
    titles = [entry.title for entry in feed.entries]
    report_link = f"{ROOT}/events/report/{data['report'].id}"
    # Newest first: the maintenance was just created, then the report's updates, then the old report's.
    assert len(feed.entries) == 5
    assert titles[0] == "Maintenance: Database upgrade"
    assert feed.entries[0].link == f"{ROOT}/events#maintenance-{data['maintenance'].id}"
    assert titles[1].startswith("Monitoring: Outage") and titles[2].startswith("Investigating: Outage")
    assert feed.entries[1].link == report_link == feed.entries[2].link
    assert titles[3:] == ["Resolved: Old hiccup", "Investigating: Old hiccup"]
    assert len({entry.id for entry in feed.entries}) == 5
    assert all(entry.get("published_parsed") for entry in feed.entries)
    assert "A fix is out" in feed.entries[1].summary
    # User text is escaped: never raw markup in the XML.
    assert b"<script>" not in response.content and b"<b>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in response.content


async def test_atom_parses_cleanly_with_stable_ids(pages: httpx.AsyncClient, build: Any) -> None:
    data = await seed(build)
    response = await pages.get("/acme/feed/atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Acme Status"
    assert feed.feed.link == ROOT
    assert feed.feed.subtitle == "Acme & friends"
    entry = feed.entries[1]
    assert entry.title == f"Monitoring: {EVIL}"
    assert entry.link == f"{ROOT}/events/report/{data['report'].id}"
    assert entry.id.startswith(f"{ROOT}/events/report/{data['report'].id}#update-")
    assert entry.get("updated_parsed") and entry.get("published_parsed")
    assert b"<script>" not in response.content
    # The same entry has the same id in RSS (guid) and in every later rendering.
    rss = feedparser.parse((await pages.get("/acme/feed/rss")).content)
    assert [e.id for e in rss.entries] == [e.id for e in feed.entries]


async def test_feed_survives_characters_xml_cannot_carry(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme", title="Acme\x01 Status\x1b")
    component = await build.component("Website")
    await build.report("Bell\x07", [component], [("investigating", "soh\x01 and \x0b", utcnow())])
    for path in ("/acme/feed/rss", "/acme/feed/atom"):
        feed = feedparser.parse((await pages.get(path)).content)
        assert feed.bozo == 0, (path, feed.get("bozo_exception"))
        assert feed.entries[0].title == "Investigating: Bell"


async def test_feeds_follow_the_locale(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme", locales=["en", "fr"])
    component = await build.component("Website")
    await build.report("Panne", [component], [("identified", "Trouvé", utcnow())])
    feed = feedparser.parse((await pages.get("/acme/fr/feed/atom")).content)
    assert feed.bozo == 0
    assert feed.entries[0].title == "Identifié: Panne"
    assert feed.entries[0].link.startswith(f"{ROOT}/fr/events/report/")
    assert feed.entries[0].id.startswith(f"{ROOT}/events/report/")  # ids do not depend on the locale


async def test_empty_page_has_valid_empty_feeds(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme")
    for path in ("/acme/feed/rss", "/acme/feed/atom"):
        feed = feedparser.parse((await pages.get(path)).content)
        assert feed.bozo == 0 and feed.entries == []
    body = (await pages.get("/acme/feed/json")).json()
    assert body["pageComponents"] == [] and body["statusReports"] == [] and body["status"] == "operational"


# --- JSON -----------------------------------------------------------------------------------------------------


async def test_json_feed_shape_and_deprecated_monitor_fields(pages: httpx.AsyncClient, build: Any) -> None:
    data = await seed(build)
    response = await pages.get("/acme/feed/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert set(body) == {
        "title", "description", "status", "updatedAt", "pageComponents", "pageComponentGroups", "monitors",
        "statusReports", "maintenances",
    }  # fmt: skip
    assert body["title"] == "Acme Status"
    assert body["status"] == "degraded"
    assert body["updatedAt"].endswith("Z")
    api, web, monitor = data["api"], data["web"], data["monitor"]
    components = {c["id"]: c for c in body["pageComponents"]}
    assert set(components) == {api.id, web.id}
    assert components[api.id] | {"uptime": None} == {
        "id": api.id,
        "name": "API",
        "description": "",
        "type": "monitor",
        "status": "degraded",
        "monitorId": monitor.id,
        "groupId": data["group"].id,
        "order": 1,
        "uptime": None,
    }
    assert components[web.id]["type"] == "static" and components[web.id]["monitorId"] is None
    assert components[web.id]["status"] == "success"
    assert body["pageComponentGroups"] == [{"id": data["group"].id, "name": "Backend", "order": 1}]
    assert body["monitors"] == [{"id": monitor.id, "name": "API", "status": "degraded"}]

    reports = {r["id"]: r for r in body["statusReports"]}
    report = reports[data["report"].id]
    assert report["title"] == EVIL
    assert report["status"] == "monitoring" and report["resolvedAt"] is None
    assert report["pageComponents"] == [api.id]
    assert report["monitors"] == [monitor.id]
    assert [u["status"] for u in report["updates"]] == ["monitoring", "investigating"]
    assert all(u["date"].endswith("Z") for u in report["updates"])
    old = reports[data["old"].id]
    assert old["pageComponents"] == [web.id] and old["monitors"] == []  # static components have no monitor
    assert old["resolvedAt"].endswith("Z")

    (maintenance,) = body["maintenances"]
    assert maintenance["title"] == "Database upgrade"
    assert maintenance["message"] == "Expect <i>short</i> blips"
    assert maintenance["pageComponents"] == [web.id] and maintenance["monitors"] == []
    assert maintenance["from"].endswith("Z") and maintenance["to"] > maintenance["from"]


async def test_json_feed_hides_uptime_when_the_page_does(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme", tracker={"showUptime": False})
    await build.component("Website")
    body = (await pages.get("/acme/feed/json")).json()
    assert body["pageComponents"][0]["uptime"] is None


# --- caching and access -------------------------------------------------------------------------------------


async def test_feeds_have_etags_and_answer_304(pages: httpx.AsyncClient, build: Any) -> None:
    await seed(build)
    for path in ("/acme/feed/rss", "/acme/feed/atom", "/acme/feed/json", "/acme/api/v2/summary.json"):
        first = await pages.get(path)
        etag = first.headers["etag"]
        again = await pages.get(path)
        assert again.headers["etag"] == etag and again.content == first.content
        cached = await pages.get(path, headers={"If-None-Match": etag})
        assert cached.status_code == 304, path
        assert cached.content == b""
        assert (await pages.get(path, headers={"If-None-Match": '"other"'})).status_code == 200
        head = await pages.head(path)
        assert head.status_code == 200 and head.headers["etag"] == etag
        assert (await pages.post(path)).status_code == 405


async def test_protected_page_feeds_are_not_served_without_auth(pages: httpx.AsyncClient, build: Any) -> None:
    await build.page("acme", access_type="password", password_hash="not-a-real-hash")
    component = await build.component("Website")
    await build.report("Secret trouble", [component], [("investigating", "hush", utcnow())])
    for path in (
        "/acme/feed/rss",
        "/acme/feed/atom",
        "/acme/feed/json",
        "/acme/api/v2/summary.json",
        "/acme/badge",
        "/acme/badge/v2",
    ):
        response = await pages.get(path)
        assert response.status_code != 200, path
        assert "Secret trouble" not in response.text
        assert "access-control-allow-origin" not in response.headers


# --- Statuspage summary ------------------------------------------------------------------------------------


async def test_summary_json_is_statuspage_shaped(pages: httpx.AsyncClient, build: Any) -> None:
    data = await seed(build)
    response = await pages.get("/acme/api/v2/summary.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert set(body) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    page = body["page"]
    assert page["name"] == "Acme Status" and page["url"] == ROOT and page["time_zone"] == "Etc/UTC"
    assert isinstance(page["id"], str) and page["updated_at"].endswith("Z")
    assert body["status"] == {"indicator": "minor", "description": "Degraded Performance"}

    api, web, group = data["api"], data["web"], data["group"]
    listed = body["components"]
    # Display order: the ungrouped website (order 0), then the group (order 1) and its member.
    assert [(c["id"], c["group"]) for c in listed] == [
        (str(web.id), False),
        (f"group-{group.id}", True),
        (str(api.id), False),
    ]
    assert [c["position"] for c in listed] == [1, 2, 3]
    by_id = {c["id"]: c for c in listed}
    assert by_id[str(api.id)]["status"] == "degraded_performance"
    assert by_id[str(api.id)]["group_id"] == f"group-{group.id}"
    assert by_id[str(web.id)]["status"] == "operational" and by_id[str(web.id)]["group_id"] is None
    assert by_id[f"group-{group.id}"]["components"] == [str(api.id)]
    assert by_id[f"group-{group.id}"]["status"] == "degraded_performance"
    for component in listed:
        assert component["page_id"] == page["id"]
        assert component["only_show_if_degraded"] is False and component["start_date"] is None

    (incident,) = body["incidents"]  # the resolved report is not an incident any more
    assert incident["id"] == str(data["report"].id)
    assert incident["name"] == EVIL
    assert incident["status"] == "monitoring"
    assert incident["impact"] == "minor"
    assert incident["resolved_at"] is None and incident["monitoring_at"].endswith("Z")
    assert incident["shortlink"] == f"{ROOT}/events/report/{data['report'].id}"
    assert [u["status"] for u in incident["incident_updates"]] == ["monitoring", "investigating"]
    assert incident["incident_updates"][1]["body"] == "We are <b>looking</b>\ninto it"
    assert all(u["incident_id"] == incident["id"] for u in incident["incident_updates"])
    assert [c["id"] for c in incident["components"]] == [str(api.id)]

    (maintenance,) = body["scheduled_maintenances"]
    assert maintenance["id"] == str(data["maintenance"].id)
    assert maintenance["status"] == "scheduled" and maintenance["impact"] == "maintenance"
    assert (
        maintenance["scheduled_for"].endswith("Z")
        and maintenance["scheduled_until"] > maintenance["scheduled_for"]
    )
    assert [c["id"] for c in maintenance["components"]] == [str(web.id)]


async def test_summary_maps_outages_and_maintenance(pages: httpx.AsyncClient, build: Any) -> None:
    now = utcnow()
    await build.page("down")
    monitor = await build.monitor("API")
    await build.component("API", monitor=monitor)
    other = await build.monitor("CDN")
    await build.component("CDN", monitor=other)
    await build.incident(monitor, now - timedelta(minutes=5))
    body = (await pages.get("/down/api/v2/summary.json")).json()
    assert body["status"]["indicator"] == "major"  # one of two components down: partial outage
    assert {c["name"]: c["status"] for c in body["components"]} == {
        "API": "major_outage",
        "CDN": "operational",
    }
    assert (await pages.get("/down/feed/json")).json()["status"] == "partial_outage"

    await build.page("works")
    component = await build.component("Website")
    await build.maintenance("Swap", [component], now - timedelta(minutes=5), now + timedelta(hours=1))
    body = (await pages.get("/works/api/v2/summary.json")).json()
    assert body["status"] == {"indicator": "maintenance", "description": "Under Maintenance"}
    assert body["components"][0]["status"] == "under_maintenance"
    assert body["scheduled_maintenances"][0]["status"] == "in_progress"
    assert body["incidents"] == []
