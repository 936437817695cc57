"""The status pages REST API: defaults, validation naming the field, unique slugs and domains, access
settings (password hashed, IPv4 ranges normalized), partial updates, tenants and scopes, plan limits, the
favicon (type checks, size limit, SVG sanitizing) and the page.changed events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.bus import Bus
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import AuditLog, StatusPage, Workspace
from openstatus_common.pages.passwords import verify_password

from .conftest import MakeKey
from .page_helpers import assert_error, create_page, events_in_stream, h

Sessions = async_sessionmaker[AsyncSession]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ICO = b"\x00\x00\x01\x00\x01\x00" + b"\x00" * 64


async def stored_page(sessions: Sessions, page_id: str) -> StatusPage:
    async with sessions() as session:
        return (await session.execute(select(StatusPage).where(StatusPage.id == int(page_id)))).scalar_one()


async def test_create_get_and_list_with_defaults(
    client: httpx.AsyncClient, make_key: MakeKey, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key, description="All systems")
    assert page["id"].isdigit()
    expected: dict[str, Any] = {
        "title": "Acme Status",
        "slug": "acme",
        "description": "All systems",
        "homepageUrl": None,
        "contactUrl": None,
        "customDomain": None,
        "customDomainVerification": None,
        "published": True,
        "theme": "default",
        "colorScheme": "system",
        "accessType": "public",
        "hasPassword": False,
        "authEmailDomains": [],
        "allowedIpRanges": [],
        "defaultLocale": "en",
        "locales": [],
        "allowIndex": True,
        "whiteLabel": False,
        "tracker": {"barType": "absolute", "cardType": "requests", "showUptime": True},
        "iconUrl": None,
        "iconContentType": None,
        "monitorIds": [],
        "monitors": [],
        "pageComponents": [],
    }
    assert {name: page[name] for name in expected} == expected
    assert "password" not in page
    fetched = await client.get(f"/v1/page/{page['id']}", headers=h(key))
    assert fetched.json() == page

    second = await create_page(client, key, title="Internal", slug="internal")
    listed = (await client.get("/v1/page?limit=1&offset=1", headers=h(key))).json()
    assert listed["totalSize"] == 2
    assert [item["id"] for item in listed["items"]] == [second["id"]]
    assert (await client.get("/v1/page?limit=101", headers=h(key))).status_code == 400

    changed = await events_in_stream(bus, "page.changed")
    assert [event.data for event in changed] == [{"page_id": int(page["id"])}, {"page_id": int(second["id"])}]
    assert changed[0].event_id.startswith(f"page.changed:{page['id']}:")


async def test_every_field_is_stored_and_normalized(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions
) -> None:
    key = await make_key()
    page = await create_page(
        client,
        key,
        homepageUrl="https://acme.example",
        contactUrl="mailto:support@acme.example",
        customDomain="Status.Acme.Example.",
        published=False,
        theme="github-high-contrast",
        colorScheme="dark",
        accessType="email-domain",
        authEmailDomains=["@Acme.Example", "acme.example", "corp.example"],
        defaultLocale="fr",
        locales=["fr", "de", "fr"],
        allowIndex=False,
        whiteLabel=True,
        tracker={"barType": "manual", "cardType": "duration", "showUptime": False},
    )
    assert page["customDomain"] == "status.acme.example"
    # The address people paste is the domain they mean.
    pasted = await client.patch(
        f"/v1/page/{page['id']}", json={"customDomain": "https://Status.Acme.Example/"}, headers=h(key)
    )
    assert pasted.json()["customDomain"] == "status.acme.example"
    assert page["authEmailDomains"] == ["acme.example", "corp.example"]
    assert page["locales"] == ["fr", "de"]
    assert (page["published"], page["allowIndex"], page["whiteLabel"]) == (False, False, True)
    row = await stored_page(sessions, page["id"])
    assert row.tracker == {"barType": "manual", "cardType": "duration", "showUptime": False}
    assert row.access_type == "email-domain"
    assert row.color_scheme == "dark"


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"slug": "Acme"}, "slug", "lowercase"),
        ({"slug": "acme status"}, "slug", "lowercase"),
        ({"slug": "-acme"}, "slug", "lowercase"),
        ({"slug": ""}, "slug", "at least 1"),
        ({"title": ""}, "title", "at least 1"),
        ({"title": "   "}, "title", "blank"),
        ({"title": "x" * 257}, "title", "at most 256"),
        ({"description": "x" * 1025}, "description", "at most 1024"),
        ({"homepageUrl": "ftp://acme.example"}, "homepageUrl", "http"),
        ({"contactUrl": "javascript:alert(1)"}, "contactUrl", "mailto"),
        ({"customDomain": "https://status.acme.example/status"}, "customDomain", "domain name"),
        ({"customDomain": "localhost"}, "customDomain", "domain name"),
        ({"theme": "neon"}, "theme", "default"),
        ({"colorScheme": "blue"}, "colorScheme", "system"),
        ({"accessType": "secret"}, "accessType", "public"),
        ({"defaultLocale": "es"}, "defaultLocale", "en"),
        ({"tracker": {"barType": "bars"}}, "tracker.barType", "absolute"),
        ({"color": "red"}, "color", "Extra inputs"),
        ({"locales": ["en"], "defaultLocale": "de"}, "locales", "default locale 'de'"),
        ({"accessType": "password"}, "password", "required"),
        ({"password": "hunter22"}, "password", "only used"),
        ({"accessType": "email-domain"}, "authEmailDomains", "at least one"),
        ({"accessType": "ip-restriction"}, "allowedIpRanges", "at least one"),
        ({"authEmailDomains": ["not a domain"]}, "authEmailDomains", "email domain"),
    ],
)
async def test_validation_errors_name_the_field(
    client: httpx.AsyncClient, make_key: MakeKey, fields: dict[str, Any], field: str, says: str
) -> None:
    key = await make_key()
    response = await client.post("/v1/page", json={"title": "T", "slug": "acme", **fields}, headers=h(key))
    assert_error(response, 400, field=field, code="invalid_argument")
    assert says in response.json()["message"]


async def test_slugs_are_unique_across_workspaces(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    """Custom domains are unique once verified: see test_custom_domains.py."""
    acme, other = await make_key("acme"), await make_key("other")
    page = await create_page(client, acme)
    taken = await client.post("/v1/page", json={"title": "T", "slug": "acme"}, headers=h(other))
    assert_error(taken, 409, field="slug", code="already_exists")
    assert taken.json()["message"] == "slug already taken"
    second = await create_page(client, acme, slug="second")
    renamed = await client.patch(f"/v1/page/{second['id']}", json={"slug": "acme"}, headers=h(acme))
    assert_error(renamed, 409, field="slug")
    # Keeping its own slug is not a conflict.
    same = await client.patch(
        f"/v1/page/{page['id']}", json={"slug": "acme", "title": "New"}, headers=h(acme)
    )
    assert same.status_code == 200, same.text


async def test_ip_ranges_are_normalized_to_ipv4_cidrs(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    page = await create_page(
        client, key, accessType="ip-restriction", allowedIpRanges="192.168.1.0/24, 10.1.2.3 ,10.9.9.9/8"
    )
    assert page["allowedIpRanges"] == ["192.168.1.0/24", "10.1.2.3/32", "10.0.0.0/8"]
    as_list = await client.patch(
        f"/v1/page/{page['id']}", json={"allowedIpRanges": ["203.0.113.7", "203.0.113.7/32"]}, headers=h(key)
    )
    assert as_list.json()["allowedIpRanges"] == ["203.0.113.7/32"]
    ipv6 = await client.patch(
        f"/v1/page/{page['id']}", json={"allowedIpRanges": "2001:db8::/32"}, headers=h(key)
    )
    assert_error(ipv6, 400, field="allowedIpRanges")
    assert "IPv6" in ipv6.json()["message"] and "only IPv4" in ipv6.json()["message"]
    garbage = await client.patch(
        f"/v1/page/{page['id']}", json={"allowedIpRanges": ["10.0.0.300"]}, headers=h(key)
    )
    assert_error(garbage, 400, field="allowedIpRanges")


async def test_passwords_are_stored_hashed_and_never_returned(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions
) -> None:
    key = await make_key()
    page = await create_page(client, key, accessType="password", password="s3cret-pass")
    assert page["hasPassword"] is True
    assert "s3cret-pass" not in str(page)
    row = await stored_page(sessions, page["id"])
    assert row.password_hash is not None and "s3cret-pass" not in row.password_hash
    assert verify_password("s3cret-pass", row.password_hash)

    # Another change keeps the password; a new one replaces it.
    kept = await client.patch(f"/v1/page/{page['id']}", json={"title": "Private"}, headers=h(key))
    assert kept.json()["hasPassword"] is True
    assert (await stored_page(sessions, page["id"])).password_hash == row.password_hash
    await client.patch(f"/v1/page/{page['id']}", json={"password": "n3w-pass"}, headers=h(key))
    assert verify_password("n3w-pass", (await stored_page(sessions, page["id"])).password_hash)

    # Opening the page drops the password; closing it again needs a new one.
    opened = await client.patch(f"/v1/page/{page['id']}", json={"accessType": "public"}, headers=h(key))
    assert opened.json()["hasPassword"] is False
    assert (await stored_page(sessions, page["id"])).password_hash is None
    closed = await client.patch(f"/v1/page/{page['id']}", json={"accessType": "password"}, headers=h(key))
    assert_error(closed, 400, field="password")


async def test_patch_merges_then_revalidates(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    page = await create_page(client, key, homepageUrl="https://acme.example", locales=["en", "fr"])
    response = await client.patch(
        f"/v1/page/{page['id']}", json={"title": "Renamed", "tracker": {"showUptime": False}}, headers=h(key)
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "Renamed"
    assert updated["homepageUrl"] == "https://acme.example"
    assert updated["tracker"] == {"barType": "absolute", "cardType": "requests", "showUptime": False}
    assert updated["updatedAt"] >= page["updatedAt"]
    # The merged page must be valid as a whole: the default locale must stay among the locales.
    bad = await client.patch(f"/v1/page/{page['id']}", json={"defaultLocale": "de"}, headers=h(key))
    assert_error(bad, 400, field="locales")
    cleared = await client.patch(f"/v1/page/{page['id']}", json={"homepageUrl": None}, headers=h(key))
    assert cleared.json()["homepageUrl"] is None
    unknown = await client.patch(f"/v1/page/{page['id']}", json={"hasPassword": True}, headers=h(key))
    assert_error(unknown, 400, field="hasPassword")


async def test_patch_merges_the_tracker_by_field(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    page = await create_page(client, key, tracker={"barType": "manual", "cardType": "duration"})
    path = f"/v1/page/{page['id']}"
    response = await client.patch(path, json={"tracker": {"showUptime": False}}, headers=h(key))
    assert response.status_code == 200, response.text
    assert response.json()["tracker"] == {"barType": "manual", "cardType": "duration", "showUptime": False}
    response = await client.patch(path, json={"tracker": {"cardType": "requests"}}, headers=h(key))
    assert response.json()["tracker"] == {"barType": "manual", "cardType": "requests", "showUptime": False}
    # Each field is still checked, and unknown ones refused.
    assert_error(await client.patch(path, json={"tracker": {"barType": "bars"}}, headers=h(key)), 400)
    assert_error(await client.patch(path, json={"tracker": {"colour": "red"}}, headers=h(key)), 400)
    assert_error(await client.patch(path, json={"tracker": None}, headers=h(key)), 400)
    fetched = (await client.get(path, headers=h(key))).json()
    assert fetched["tracker"] == {"barType": "manual", "cardType": "requests", "showUptime": False}


async def test_read_keys_cannot_change_pages(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key, reader = await make_key(), await make_key(scopes=("read",))
    page = await create_page(client, key)
    path = f"/v1/page/{page['id']}"
    assert_error(await client.post("/v1/page", json={"title": "T", "slug": "x"}, headers=h(reader)), 403)
    assert_error(await client.patch(path, json={"title": "T"}, headers=h(reader)), 403)
    assert_error(await client.delete(path, headers=h(reader)), 403)
    icon = await client.put(f"{path}/icon", content=PNG, headers={**h(reader), "content-type": "image/png"})
    assert_error(icon, 403, code="permission_denied")
    assert_error(await client.delete(f"{path}/icon", headers=h(reader)), 403)
    assert (await client.get(path, headers=h(reader))).status_code == 200
    assert (await client.get("/v1/page", headers=h(reader))).json()["totalSize"] == 1


async def test_other_workspaces_pages_are_not_found(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    acme, other = await make_key("acme"), await make_key("other")
    page = await create_page(client, acme)
    path = f"/v1/page/{page['id']}"
    assert_error(await client.get(path, headers=h(other)), 404, field="id", code="not_found")
    assert_error(await client.patch(path, json={"title": "Mine"}, headers=h(other)), 404)
    assert_error(await client.delete(path, headers=h(other)), 404)
    icon = await client.put(f"{path}/icon", content=PNG, headers={**h(other), "content-type": "image/png"})
    assert_error(icon, 404)
    assert (await client.get("/v1/page", headers=h(other))).json()["totalSize"] == 0
    assert (await client.get(path, headers=h(acme))).json()["title"] == "Acme Status"


async def test_delete_removes_the_page_and_announces_it(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    response = await client.delete(f"/v1/page/{page['id']}", headers=h(key))
    assert response.json() == {"success": True}
    assert_error(await client.get(f"/v1/page/{page['id']}", headers=h(key)), 404)
    assert len(await events_in_stream(bus, "page.changed")) == 2
    # The slug is free again.
    await create_page(client, key)
    async with sessions() as session:
        actions = (await session.execute(select(AuditLog.action).order_by(AuditLog.id))).scalars().all()
    assert actions == ["page.create", "page.delete", "page.create"]


async def test_the_plan_limits_the_number_of_pages(
    client: httpx.AsyncClient, make_key: MakeKey, sessions: Sessions
) -> None:
    key = await make_key()
    async with unit_of_work(sessions) as session:
        await session.execute(update(Workspace).values(limits={"status-pages": 1}))
    await create_page(client, key)
    response = await client.post("/v1/page", json={"title": "T", "slug": "second"}, headers=h(key))
    assert_error(response, 403, code="permission_denied")
    assert "1 status page" in response.json()["message"]


@pytest.mark.parametrize(
    ("flag", "fields", "field"),
    [
        ("custom-domain", {"customDomain": "status.acme.example"}, "customDomain"),
        ("password-protection", {"accessType": "password", "password": "hunter2222"}, "accessType"),
        ("white-label", {"whiteLabel": True}, "whiteLabel"),
    ],
)
async def test_plan_feature_flags_refuse_turning_a_feature_on_but_keep_what_pages_have(
    client: httpx.AsyncClient,
    make_key: MakeKey,
    sessions: Sessions,
    flag: str,
    fields: dict[str, Any],
    field: str,
) -> None:
    key = await make_key()
    existing = await create_page(client, key, slug="existing", **fields)  # made before the downgrade
    async with unit_of_work(sessions) as session:
        await session.execute(update(Workspace).values(limits={flag: False}))
    refused = await client.post("/v1/page", json={"title": "T", "slug": "new", **fields}, headers=h(key))
    assert_error(refused, 403, field=field, code="permission_denied")
    assert "your plan does not include" in refused.json()["message"]
    assert refused.json()["limit"] == flag
    plain = await create_page(client, key, slug="plain")
    assert_error(await client.patch(f"/v1/page/{plain['id']}", json=fields, headers=h(key)), 403, field=field)
    # The page that already has it keeps it through other changes.
    kept = await client.patch(f"/v1/page/{existing['id']}", json={"title": "Renamed"}, headers=h(key))
    assert kept.status_code == 200, kept.text
    async with unit_of_work(sessions) as session:
        await session.execute(update(Workspace).values(limits={flag: True}))
    assert (await client.patch(f"/v1/page/{plain['id']}", json=fields, headers=h(key))).status_code == 200


async def test_png_and_ico_icons_are_stored_and_served(
    client: httpx.AsyncClient, make_key: MakeKey, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    path = f"/v1/page/{page['id']}/icon"
    response = await client.put(path, content=PNG, headers={**h(key), "content-type": "image/png"})
    assert response.status_code == 200, response.text
    assert response.json()["iconContentType"] == "image/png"
    assert (
        response.json()["iconUrl"].startswith("http://")
        and "/acme/favicon.ico?v=" in response.json()["iconUrl"]
    )
    served = await client.get(path, headers=h(key))
    assert served.content == PNG and served.headers["content-type"] == "image/png"

    ico = await client.put(path, content=ICO, headers={**h(key), "content-type": "image/vnd.microsoft.icon"})
    assert ico.json()["iconContentType"] == "image/x-icon"

    removed = await client.delete(path, headers=h(key))
    assert removed.json()["iconUrl"] is None
    assert_error(await client.get(path, headers=h(key)), 404, field="icon")
    # Create, two uploads, one removal.
    assert len(await events_in_stream(bus, "page.changed")) == 4


@pytest.mark.parametrize(
    ("content", "content_type", "says"),
    [
        (PNG, "image/gif", "Content-Type must be one of"),
        (PNG, "", "Content-Type must be one of"),
        (b"GIF89a....", "image/png", "not a PNG"),
        (PNG, "image/x-icon", "not an ICO"),
        (b"", "image/png", "empty"),
        (b"<html><script>1</script></html>", "image/svg+xml", "root element must be <svg>"),
        (b'<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>', "image/svg+xml", "DTD"),
    ],
)
async def test_wrong_icons_are_refused_naming_the_field(
    client: httpx.AsyncClient, make_key: MakeKey, content: bytes, content_type: str, says: str
) -> None:
    key = await make_key()
    page = await create_page(client, key)
    response = await client.put(
        f"/v1/page/{page['id']}/icon", content=content, headers={**h(key), "content-type": content_type}
    )
    assert_error(response, 400, field="icon", code="invalid_argument")
    assert says in response.json()["message"]


async def test_oversized_icons_are_refused(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    page = await create_page(client, key)
    big = PNG + b"\x00" * (100 * 1024)
    response = await client.put(
        f"/v1/page/{page['id']}/icon", content=big, headers={**h(key), "content-type": "image/png"}
    )
    assert_error(response, 413, field="icon")
    assert "at most 100 KB" in response.json()["message"]
    assert (await client.get(f"/v1/page/{page['id']}", headers=h(key))).json()["iconUrl"] is None


async def test_svg_icons_are_sanitized(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key()
    page = await create_page(client, key)
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8" onload="alert(1)">'
        b'<script>alert(document.cookie)</script><a href="javascript:alert(1)"><circle r="1"/></a>'
        b'<rect width="8" height="8" fill="#0a0" onclick="x()"/></svg>'
    )
    path = f"/v1/page/{page['id']}/icon"
    response = await client.put(path, content=svg, headers={**h(key), "content-type": "image/svg+xml"})
    assert response.status_code == 200, response.text
    stored = (await client.get(path, headers=h(key))).content
    assert stored == (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="#0a0">'
        b"</rect></svg>"
    )
