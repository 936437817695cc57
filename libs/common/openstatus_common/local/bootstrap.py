"""The demo workspace of ``make run``: a workspace, a read & write API key and a status page.

With ``demo_monitor_url``, a new demo page also gets something to show: a public monitor of that URL (the
local API's health endpoint) as a component in a group, and a static component.

Running again reuses them: the key saved in ``var/demo-api-key`` stays valid. With
OPENSTATUS_BOOTSTRAP_API_KEY set, that value is the demo key.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from openstatus_common.apikeys import Scope, generate_key, hash_key, key_from_plaintext
from openstatus_common.db.engine import create_engine, session_factory, unit_of_work
from openstatus_common.db.models import (
    ApiKey,
    Monitor,
    PageComponent,
    PageComponentGroup,
    StatusPage,
    Workspace,
)

DEMO_SLUG = "demo"


@dataclass(frozen=True)
class DemoWorkspace:
    workspace_id: int
    api_key: str
    page_slug: str


async def ensure_demo_workspace(
    database_url: str,
    *,
    key_file: Path,
    bootstrap_key: str = "",
    demo_monitor_url: str | None = None,
    regions: tuple[str, ...] = ("ams",),
) -> DemoWorkspace:
    saved = await asyncio.to_thread(_read_secret, key_file)
    engine = create_engine(database_url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            workspace = await _workspace(session)
            plaintext = await _api_key(session, workspace, saved_key=saved, bootstrap_key=bootstrap_key)
            page = await _status_page(session, workspace, demo_monitor_url=demo_monitor_url, regions=regions)
            result = DemoWorkspace(workspace_id=workspace.id, api_key=plaintext, page_slug=page.slug)
    finally:
        await engine.dispose()
    await asyncio.to_thread(_write_secret, key_file, plaintext)
    return result


async def _workspace(session: AsyncSession) -> Workspace:
    workspace = (
        await session.execute(select(Workspace).where(Workspace.slug == DEMO_SLUG))
    ).scalar_one_or_none()
    if workspace is None:
        workspace = Workspace(name="Demo", slug=DEMO_SLUG, plan="team", limits={})
        session.add(workspace)
        await session.flush()
    return workspace


async def _api_key(session: AsyncSession, workspace: Workspace, *, saved_key: str, bootstrap_key: str) -> str:
    if bootstrap_key:
        plaintext = key_from_plaintext(bootstrap_key.strip()).plaintext
    elif await _key_is_valid(session, workspace, saved_key):
        return saved_key
    else:
        plaintext = generate_key().plaintext
    if not await _key_is_valid(session, workspace, plaintext):
        new = key_from_plaintext(plaintext)
        session.add(
            ApiKey(
                workspace_id=workspace.id,
                name="demo (make run)",
                prefix=new.prefix,
                key_hash=new.digest,
                scopes=[Scope.WRITE.value],
            )
        )
        await session.flush()
    return plaintext


async def _key_is_valid(session: AsyncSession, workspace: Workspace, plaintext: str) -> bool:
    if not plaintext:
        return False
    found = await session.execute(
        select(ApiKey.id).where(
            ApiKey.workspace_id == workspace.id,
            ApiKey.key_hash == hash_key(plaintext),
            ApiKey.revoked_at.is_(None),
        )
    )
    return found.first() is not None


async def _status_page(
    session: AsyncSession, workspace: Workspace, *, demo_monitor_url: str | None, regions: tuple[str, ...]
) -> StatusPage:
    page = (
        await session.execute(select(StatusPage).where(StatusPage.slug == DEMO_SLUG))
    ).scalar_one_or_none()
    if page is None:
        page = StatusPage(
            workspace_id=workspace.id,
            title="Demo status",
            slug=DEMO_SLUG,
            description="The status page of the demo workspace created by make run.",
            published=True,
        )
        session.add(page)
        await session.flush()
        if demo_monitor_url:
            await _demo_components(session, workspace, page, demo_monitor_url, regions)
    return page


async def _demo_components(
    session: AsyncSession, workspace: Workspace, page: StatusPage, url: str, regions: tuple[str, ...]
) -> None:
    monitor = Monitor(
        workspace_id=workspace.id,
        kind="http",
        name="Demo API health",
        url=url,
        periodicity="1m",
        regions=list(regions),
        active=True,
        public=True,
    )
    group = PageComponentGroup(page_id=page.id, name="Demo services", order=0, default_open=True)
    session.add_all([monitor, group])
    await session.flush()
    session.add_all(
        [
            PageComponent(
                page_id=page.id, type="monitor", monitor_id=monitor.id, name="API", group_id=group.id
            ),
            PageComponent(page_id=page.id, type="static", name="Email delivery", order=1),
        ]
    )
    await session.flush()


def _read_secret(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
