"""Custom-domain ownership: a claim is served only after its TXT record is found, a claim does not lock
the domain (no squatting), a verified domain does, and a change of domain starts over."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from openstatus_common.bus import Bus
from openstatus_common.db.models import AuditLog
from openstatus_common.pages import domains
from openstatus_common.pages.snapshot import find_page_id
from openstatus_common.service import ServiceContext
from openstatus_common.settings import Settings

from .conftest import MakeKey
from .page_helpers import assert_error, create_page, events_in_stream, h

Sessions = async_sessionmaker[AsyncSession]


def app_client(db_engine: AsyncEngine, bus: Bus, **settings: Any) -> httpx.AsyncClient:
    ctx = ServiceContext(name="api", settings=Settings(regions="ams,iad,syd", **settings))
    ctx.attach(engine=db_engine, bus=bus)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(ctx)), base_url="http://api")


@pytest.fixture
def dns(dns_target: Any) -> Iterator[Any]:
    """The session's DNS server, with what this test published taken down after it."""
    yield dns_target
    dns_target.reset()


@pytest.fixture
async def client(db_engine: AsyncEngine, bus: Bus, dns: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API, looking TXT records up on the test's DNS server."""
    async with app_client(db_engine, bus, dns_nameservers=dns.nameserver) as client:
        yield client


def publish_txt(dns: Any, record: dict[str, str]) -> None:
    assert record["type"] == "TXT"
    dns.publish(f'{record["name"]}. 60 IN TXT "{record["value"]}"')


async def verify(client: httpx.AsyncClient, key: str, page_id: str) -> httpx.Response:
    return await client.post(f"/v1/page/{page_id}/custom-domain/verify", headers=h(key))


async def served_page(sessions: Sessions, domain: str) -> int | None:
    async with sessions() as session:
        return await find_page_id(session, domain=domain)


async def test_a_claimed_domain_is_served_only_after_its_txt_record_is_found(
    client: httpx.AsyncClient, make_key: MakeKey, dns: Any, sessions: Sessions, bus: Bus
) -> None:
    key = await make_key()
    page = await create_page(client, key, customDomain="status.verify-me.test")
    proof = page["customDomainVerification"]
    assert proof["verified"] is False and proof["verifiedAt"] is None
    record = proof["record"]
    assert record["name"] == "_openstatus.status.verify-me.test"
    assert record["value"].startswith("openstatus-verification=") and len(record["value"]) > 40
    assert await served_page(sessions, "status.verify-me.test") is None

    missing = await verify(client, key, page["id"])
    assert_error(missing, 412, field="customDomain", code="failed_precondition")
    assert "found no TXT record" in missing.json()["message"]
    assert missing.json()["record"] == record  # the error says what to publish

    dns.publish('_openstatus.status.verify-me.test. 60 IN TXT "openstatus-verification=wrong"')
    wrong = await verify(client, key, page["id"])
    assert_error(wrong, 412, field="customDomain")
    assert "openstatus-verification=wrong" in wrong.json()["message"]

    publish_txt(dns, record)
    verified = await verify(client, key, page["id"])
    assert verified.status_code == 200, verified.text
    assert verified.json()["customDomainVerification"]["verified"] is True
    assert verified.json()["customDomainVerification"]["verifiedAt"] is not None
    assert await served_page(sessions, "status.verify-me.test") == int(page["id"])
    # The status pages hear of it at once; asking again changes nothing and publishes nothing.
    changed = len(await events_in_stream(bus, "page.changed"))
    again = await verify(client, key, page["id"])
    assert again.status_code == 200 and again.json()["customDomainVerification"]["verified"] is True
    assert len(await events_in_stream(bus, "page.changed")) == changed
    async with sessions() as session:
        actions = (await session.execute(select(AuditLog.action))).scalars().all()
    assert actions.count("page.domain.verify") == 1


async def test_a_claim_does_not_lock_the_domain_but_a_verified_one_does(
    client: httpx.AsyncClient, make_key: MakeKey, dns: Any, sessions: Sessions
) -> None:
    squatter, owner = await make_key("squatter"), await make_key("owner")
    squatted = await create_page(client, squatter, slug="squat", customDomain="status.owned.test")
    # The real owner can still claim it, prove it, and be served at it.
    page = await create_page(client, owner, slug="owned", customDomain="STATUS.owned.test")
    assert page["customDomainVerification"]["record"] != squatted["customDomainVerification"]["record"]
    publish_txt(dns, page["customDomainVerification"]["record"])
    assert (await verify(client, owner, page["id"])).status_code == 200
    assert await served_page(sessions, "status.owned.test") == int(page["id"])
    # Now nobody else can take it, nor verify the old claim.
    lost = await verify(client, squatter, squatted["id"])
    assert_error(lost, 409, field="customDomain", code="already_exists")
    late = await client.post(
        "/v1/page",
        json={"title": "T", "slug": "late", "customDomain": "status.owned.test"},
        headers=h(squatter),
    )
    assert_error(late, 409, field="customDomain", code="already_exists")
    assert await served_page(sessions, "status.owned.test") == int(page["id"])


async def test_changing_the_domain_starts_over_and_removing_it_clears_the_proof(
    client: httpx.AsyncClient, make_key: MakeKey, dns: Any, sessions: Sessions
) -> None:
    key = await make_key()
    page = await create_page(client, key, customDomain="status.first.test")
    publish_txt(dns, page["customDomainVerification"]["record"])
    assert (await verify(client, key, page["id"])).status_code == 200
    # Other changes keep the proof.
    renamed = await client.patch(f"/v1/page/{page['id']}", json={"title": "New"}, headers=h(key))
    assert renamed.json()["customDomainVerification"]["verified"] is True

    moved = await client.patch(
        f"/v1/page/{page['id']}", json={"customDomain": "status.second.test"}, headers=h(key)
    )
    proof = moved.json()["customDomainVerification"]
    assert proof["verified"] is False
    assert proof["record"]["name"] == "_openstatus.status.second.test"
    assert proof["record"]["value"] != page["customDomainVerification"]["record"]["value"]
    assert await served_page(sessions, "status.first.test") is None
    assert await served_page(sessions, "status.second.test") is None

    cleared = await client.patch(f"/v1/page/{page['id']}", json={"customDomain": None}, headers=h(key))
    assert cleared.json()["customDomain"] is None
    assert cleared.json()["customDomainVerification"] is None
    nothing = await verify(client, key, page["id"])
    assert_error(nothing, 412, field="customDomain", code="failed_precondition")


async def test_an_unreachable_nameserver_is_a_503_not_a_failed_proof(
    db_engine: AsyncEngine, bus: Bus, make_key: MakeKey, sessions: Sessions
) -> None:
    async with app_client(db_engine, bus, dns_nameservers="127.0.0.1:1") as client:
        key = await make_key()
        page = await create_page(client, key, customDomain="status.unreachable.test")
        answer = await verify(client, key, page["id"])
    assert_error(answer, 503, field="customDomain", code="unavailable")
    assert "try again" in answer.json()["message"]
    assert await served_page(sessions, "status.unreachable.test") is None


async def test_verification_can_be_switched_off_for_single_tenant_deployments(
    db_engine: AsyncEngine, bus: Bus, make_key: MakeKey, sessions: Sessions
) -> None:
    async with app_client(db_engine, bus, custom_domain_verification=False) as client:
        key = await make_key()
        page = await create_page(client, key, customDomain="status.trusted.test")
        assert page["customDomainVerification"]["verified"] is True
        assert await served_page(sessions, "status.trusted.test") == int(page["id"])
        taken = await client.post(
            "/v1/page",
            json={"title": "T", "slug": "b", "customDomain": "status.trusted.test"},
            headers=h(key),
        )
    assert_error(taken, 409, field="customDomain", code="already_exists")


async def test_verifying_needs_a_write_key_of_the_pages_workspace(
    client: httpx.AsyncClient, make_key: MakeKey, dns: Any
) -> None:
    key = await make_key()
    page = await create_page(client, key, customDomain="status.scoped.test")
    publish_txt(dns, page["customDomainVerification"]["record"])
    read_only = await make_key(scopes=("read",))
    assert_error(await verify(client, read_only, page["id"]), 403)
    stranger = await make_key("stranger")
    assert_error(await verify(client, stranger, page["id"]), 404)
    assert (await verify(client, key, page["id"])).status_code == 200


async def test_changing_the_domain_during_the_lookup_verifies_nothing(
    client: httpx.AsyncClient,
    make_key: MakeKey,
    dns: Any,
    sessions: Sessions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prove a domain you own, switch the claim to someone else's while the lookup runs: no verification."""
    key = await make_key()
    page = await create_page(client, key, customDomain="status.mine.test")
    publish_txt(dns, page["customDomainVerification"]["record"])
    real_lookup = domains.txt_records

    async def slow_lookup(name: str, nameservers: Any = ()) -> list[str]:
        switched = await client.patch(
            f"/v1/page/{page['id']}", json={"customDomain": "status.victim.test"}, headers=h(key)
        )
        assert switched.status_code == 200, switched.text
        return await real_lookup(name, nameservers)

    monkeypatch.setattr(domains, "txt_records", slow_lookup)
    answer = await verify(client, key, page["id"])
    assert_error(answer, 412, field="customDomain", code="failed_precondition")
    assert "changed during the check" in answer.json()["message"]
    assert await served_page(sessions, "status.victim.test") is None
    assert await served_page(sessions, "status.mine.test") is None
    stored = await client.get(f"/v1/page/{page['id']}", headers=h(key))
    assert stored.json()["customDomainVerification"]["verified"] is False


async def test_a_domain_too_long_for_its_txt_record_is_refused(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 44, "test"])  # 241 characters
    assert len(longest) == 241
    accepted = await client.post(
        "/v1/page", json={"title": "T", "slug": "ok", "customDomain": longest}, headers=h(key)
    )
    assert accepted.status_code == 201, accepted.text
    too_long = await client.post(
        "/v1/page", json={"title": "T", "slug": "no", "customDomain": "e." + longest}, headers=h(key)
    )
    assert_error(too_long, 400, field="customDomain", code="invalid_argument")
    assert "at most 241 characters" in too_long.json()["message"]
