"""Builds status pages with history for tests: a workspace, a page, and what the page shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import (
    CheckRollup,
    Incident,
    Maintenance,
    Monitor,
    PageComponent,
    PageComponentGroup,
    StatusPage,
    StatusReport,
    StatusReportUpdate,
    Workspace,
)


class PageBuilder:
    """Adds a workspace with one page and lets a test add what the page shows."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.workspace_id = 0
        self.page_id = 0

    async def page(self, slug: str = "acme", **fields: Any) -> int:
        async with unit_of_work(self.sessions) as session:
            workspace = Workspace(name=slug.title(), slug=f"ws-{slug}", plan="team", limits={})
            session.add(workspace)
            await session.flush()
            fields.setdefault("title", f"{slug.title()} Status")
            fields.setdefault("published", True)
            if fields.get("custom_domain"):  # a verified domain unless the test says otherwise
                fields.setdefault("custom_domain_verified_at", utcnow())
            page = StatusPage(workspace_id=workspace.id, slug=slug, **fields)
            session.add(page)
            await session.flush()
            self.workspace_id, self.page_id = workspace.id, page.id
        return self.page_id

    async def add(self, row: Any) -> Any:
        async with unit_of_work(self.sessions) as session:
            session.add(row)
            await session.flush()
            await session.refresh(row)
        return row

    async def group(self, name: str, order: int = 0, **fields: Any) -> PageComponentGroup:
        row: PageComponentGroup = await self.add(
            PageComponentGroup(page_id=self.page_id, name=name, order=order, **fields)
        )
        return row

    async def monitor(self, name: str = "API", **fields: Any) -> Monitor:
        fields.setdefault("active", True)
        fields.setdefault("public", True)
        row: Monitor = await self.add(
            Monitor(
                workspace_id=self.workspace_id,
                kind="http",
                name=name,
                url="https://api.example.com/health",
                periodicity="1m",
                regions=["ams"],
                **fields,
            )
        )
        return row

    async def component(
        self, name: str, *, monitor: Monitor | None = None, created_at: datetime | None = None, **fields: Any
    ) -> PageComponent:
        if created_at is not None:
            fields["created_at"] = created_at
        row: PageComponent = await self.add(
            PageComponent(
                page_id=self.page_id,
                type="monitor" if monitor else "static",
                monitor_id=monitor.id if monitor else None,
                name=name,
                **fields,
            )
        )
        return row

    async def report(
        self,
        title: str,
        components: list[PageComponent],
        updates: list[tuple[str, str, datetime]],
    ) -> StatusReport:
        async with unit_of_work(self.sessions) as session:
            latest = max(updates, key=lambda u: u[2])
            report = StatusReport(
                workspace_id=self.workspace_id,
                page_id=self.page_id,
                title=title,
                status=latest[0],
                resolved_at=latest[2] if latest[0] == "resolved" else None,
            )
            session.add(report)
            await session.flush()
            for status, message, date in updates:
                session.add(
                    StatusReportUpdate(report_id=report.id, status=status, message=message, date=date)
                )
            await session.flush()
            await session.refresh(report, ["components"])
            for component in components:
                report.components.append(await session.get_one(PageComponent, component.id))
        return report

    async def maintenance(
        self,
        title: str,
        components: list[PageComponent],
        starts_at: datetime,
        ends_at: datetime,
        message: str = "",
    ) -> Maintenance:
        async with unit_of_work(self.sessions) as session:
            row = Maintenance(
                workspace_id=self.workspace_id,
                page_id=self.page_id,
                title=title,
                message=message,
                starts_at=starts_at,
                ends_at=ends_at,
            )
            session.add(row)
            await session.flush()
            await session.refresh(row, ["components"])
            for component in components:
                row.components.append(await session.get_one(PageComponent, component.id))
        return row

    async def incident(
        self, monitor: Monitor, started_at: datetime, resolved_at: datetime | None = None
    ) -> Incident:
        row: Incident = await self.add(
            Incident(
                workspace_id=self.workspace_id,
                monitor_id=monitor.id,
                status="resolved" if resolved_at else "open",
                started_at=started_at,
                resolved_at=resolved_at,
            )
        )
        return row

    async def day(
        self, monitor: Monitor, day_start: datetime, success: int, degraded: int = 0, error: int = 0
    ) -> None:
        await self.days(monitor, [(day_start, success, degraded, error)])

    async def days(self, monitor: Monitor, counts: list[tuple[datetime, int, int, int]]) -> None:
        """Daily rollups ``(day_start, success, degraded, error)`` from one region, in one transaction."""
        async with unit_of_work(self.sessions) as session:
            for day_start, success, degraded, error in counts:
                session.add(
                    CheckRollup(
                        monitor_id=monitor.id,
                        region="ams",
                        granularity="day",
                        bucket_start=day_start,
                        success_count=success,
                        degraded_count=degraded,
                        error_count=error,
                        latency_sum_ms=success * 100,
                        latency_histogram={"80": success} if success else {},
                    )
                )
