"""A status page's read model: everything a page, its feeds, badges and widgets show, loaded in one go.

``load_snapshot`` reads the page, its groups and components, the reports and maintenances of the tracker
window (plus anything still open or upcoming), the incidents of its monitors and their daily rollups, and
computes every component's status, tracker and uptime with the shared rules (``pages.status``,
``pages.tracker``). It never reads raw check results. Renderers only format a snapshot; they never query.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

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
    maintenance_components,
    status_report_components,
)
from openstatus_common.pages.status import (
    ComponentStatus,
    OverallStatus,
    component_status,
    overall_status,
    widget_status,
    worst,
)
from openstatus_common.pages.tracker import DAYS, Counts, Happening, Tracker, TrackerConfig, build_tracker
from openstatus_common.rules.latency import merge_into, parse_histogram, percentiles
from openstatus_common.rules.uptime import Interval

LOCALES = ("en", "fr", "de")


@dataclass(frozen=True, slots=True)
class PageConfig:
    id: int
    workspace_id: int
    slug: str
    title: str
    description: str
    homepage_url: str | None
    contact_url: str | None
    custom_domain: str | None  # verified only: an unproven claim is not served
    published: bool
    has_icon: bool
    access_type: str
    password_hash: str | None
    auth_email_domains: tuple[str, ...]
    allowed_ip_ranges: tuple[str, ...]
    allow_index: bool
    theme: str
    color_scheme: str
    default_locale: str
    # The locales visitors can switch between (always includes the default one).
    locales: tuple[str, ...]
    white_label: bool
    tracker: TrackerConfig
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ReportUpdateView:
    id: int
    status: str
    message: str
    date: datetime


@dataclass(frozen=True, slots=True)
class ReportView:
    id: int
    title: str
    status: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    component_ids: tuple[int, ...]
    # Newest first.
    updates: tuple[ReportUpdateView, ...]

    @property
    def started_at(self) -> datetime:
        return min((u.date for u in self.updates), default=self.created_at)

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"

    def impact(self, now: datetime) -> Interval:
        end = self.resolved_at if self.resolved and self.resolved_at else now
        start = self.started_at
        return Interval(start, max(start, end))


@dataclass(frozen=True, slots=True)
class MaintenanceView:
    id: int
    title: str
    message: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    updated_at: datetime
    component_ids: tuple[int, ...]

    def ongoing(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def upcoming(self, now: datetime) -> bool:
        return now < self.starts_at

    @property
    def interval(self) -> Interval:
        return Interval(self.starts_at, self.ends_at)


@dataclass(frozen=True, slots=True)
class IncidentView:
    id: int
    monitor_id: int
    started_at: datetime
    resolved_at: datetime | None

    def interval(self, now: datetime) -> Interval:
        end = self.resolved_at or now
        return Interval(self.started_at, max(self.started_at, end))


@dataclass(frozen=True, slots=True)
class ComponentView:
    id: int
    name: str
    description: str
    type: str  # "monitor" | "static"
    monitor_id: int | None
    monitor_public: bool
    group_id: int | None
    order: int
    group_order: int
    status: ComponentStatus
    tracker: Tracker


@dataclass(frozen=True, slots=True)
class GroupView:
    id: int
    name: str
    order: int
    default_open: bool
    components: tuple[ComponentView, ...]

    @property
    def status(self) -> ComponentStatus:
        return worst(c.status for c in self.components)


@dataclass(frozen=True, slots=True)
class PageSnapshot:
    page: PageConfig
    generated_at: datetime
    # The first day of the trackers: older events are not in the snapshot (``load_history``).
    window_start: datetime
    # Top-level items in display order: groups and ungrouped components, by their ``order``.
    items: tuple[ComponentView | GroupView, ...]
    components: tuple[ComponentView, ...]
    groups: tuple[GroupView, ...]
    # Newest first; unresolved ones plus those of the tracker window.
    reports: tuple[ReportView, ...]
    # By start, newest first; upcoming, ongoing and those of the tracker window.
    maintenances: tuple[MaintenanceView, ...]
    incidents: tuple[IncidentView, ...]
    status: OverallStatus
    # Whether reports resolved or maintenances ended before the tracker window exist (``load_history``).
    has_older_events: bool = False
    stale: bool = False

    @property
    def active_reports(self) -> tuple[ReportView, ...]:
        return tuple(r for r in self.reports if not r.resolved)

    @property
    def past_reports(self) -> tuple[ReportView, ...]:
        return tuple(r for r in self.reports if r.resolved)

    @property
    def past_maintenances(self) -> tuple[MaintenanceView, ...]:
        now = self.generated_at
        return tuple(m for m in self.maintenances if not m.upcoming(now) and not m.ongoing(now))

    @property
    def ongoing_maintenances(self) -> tuple[MaintenanceView, ...]:
        return tuple(m for m in self.maintenances if m.ongoing(self.generated_at))

    @property
    def upcoming_maintenances(self) -> tuple[MaintenanceView, ...]:
        return tuple(
            sorted((m for m in self.maintenances if m.upcoming(self.generated_at)), key=lambda m: m.starts_at)
        )

    @property
    def widget_status(self) -> str:
        return widget_status(self.status, unresolved_reports=bool(self.active_reports))

    def component(self, component_id: int) -> ComponentView | None:
        return next((c for c in self.components if c.id == component_id), None)

    def report(self, report_id: int) -> ReportView | None:
        return next((r for r in self.reports if r.id == report_id), None)

    def down_since(self, component: ComponentView) -> datetime | None:
        """When the open incident of a monitor component's monitor began; None when there is none."""
        if component.type != "monitor" or component.monitor_id is None:
            return None
        starts = [
            i.started_at
            for i in self.incidents
            if i.monitor_id == component.monitor_id and i.resolved_at is None
        ]
        return min(starts, default=None)

    @property
    def monitor_ids(self) -> tuple[int, ...]:
        return tuple(c.monitor_id for c in self.components if c.monitor_id is not None)


async def find_page_id(
    session: AsyncSession, *, slug: str | None = None, domain: str | None = None
) -> int | None:
    """A published page by slug or custom domain."""
    query = select(StatusPage.id).where(StatusPage.published)
    if slug is not None:
        query = query.where(StatusPage.slug == slug)
    elif domain is not None:
        # Only a verified domain is served: several pages may claim one, at most one has proved it.
        query = query.where(
            StatusPage.custom_domain == domain.lower(), StatusPage.custom_domain_verified_at.is_not(None)
        )
    else:
        return None
    return (await session.execute(query)).scalar_one_or_none()


async def load_snapshot(
    session: AsyncSession, page_id: int, *, now: datetime, days: int = DAYS, offload: bool = False
) -> PageSnapshot | None:
    """The page as visitors see it at ``now``; None if there is no such page.

    With ``offload``, the trackers are built in a worker thread (tens of milliseconds of Python on a big
    page), so a server's event loop keeps answering from its cache meanwhile.
    """
    # The icon's bytes are served by their own route; the snapshot only needs to know there is one.
    query = select(StatusPage).options(defer(StatusPage.icon)).where(StatusPage.id == page_id)
    page = (await session.execute(query)).scalar_one_or_none()
    if page is None:
        return None
    config = _config(page)
    window_start = datetime.combine(
        now.astimezone(UTC).date() - timedelta(days=days - 1), datetime.min.time(), UTC
    )

    groups = (
        (await session.execute(select(PageComponentGroup).where(PageComponentGroup.page_id == page_id)))
        .scalars()
        .all()
    )
    component_rows = (
        await session.execute(
            select(PageComponent, Monitor.status, Monitor.public, Monitor.deleted_at)
            .outerjoin(Monitor, Monitor.id == PageComponent.monitor_id)
            .where(PageComponent.page_id == page_id)
        )
    ).all()
    component_rows = [row for row in component_rows if row[0].type == "static" or row[3] is None]
    monitor_ids = [row[0].monitor_id for row in component_rows if row[0].monitor_id is not None]

    reports = await _reports(
        session,
        StatusReport.page_id == page_id,
        or_(
            StatusReport.status != "resolved",
            StatusReport.resolved_at.is_(None),
            StatusReport.resolved_at >= window_start,
        ),
    )
    maintenances = await _maintenances(
        session, Maintenance.page_id == page_id, Maintenance.ends_at >= window_start
    )
    has_older = await _has_history_before(session, page_id, window_start)
    incidents = await _incidents(session, monitor_ids, window_start)
    counts = await _daily_counts(session, monitor_ids, window_start)
    rows = _PageRows(
        config, window_start, groups, component_rows, reports, maintenances, incidents, counts, has_older
    )
    if offload:
        return await asyncio.to_thread(_assemble, rows, now, days)
    return _assemble(rows, now, days)


@dataclass(frozen=True)
class _PageRows:
    """What ``load_snapshot`` read, before the trackers are built."""

    config: PageConfig
    window_start: datetime
    groups: Sequence[PageComponentGroup]
    component_rows: Sequence[Any]
    reports: list[ReportView]
    maintenances: list[MaintenanceView]
    incidents: list[IncidentView]
    counts: dict[int, dict[date, Counts]]
    has_older_events: bool


def _assemble(rows: _PageRows, now: datetime, days: int) -> PageSnapshot:
    """Build the trackers and statuses from what was read: pure Python, no database."""
    config, reports, maintenances = rows.config, rows.reports, rows.maintenances
    components: list[ComponentView] = []
    for component, monitor_status, monitor_public, _ in rows.component_rows:
        components.append(
            _component(
                component,
                monitor_status=monitor_status,
                monitor_public=bool(monitor_public),
                config=config,
                now=now,
                reports=reports,
                maintenances=maintenances,
                incidents=[i for i in rows.incidents if i.monitor_id == component.monitor_id],
                counts=rows.counts.get(component.monitor_id or -1, {}),
                days=days,
            )
        )
    grouped: dict[int, list[ComponentView]] = defaultdict(list)
    for view in components:
        if view.group_id is not None:
            grouped[view.group_id].append(view)
    group_views = [
        GroupView(
            id=group.id,
            name=group.name,
            order=group.order,
            default_open=group.default_open,
            components=tuple(sorted(grouped.get(group.id, []), key=lambda c: (c.group_order, c.order, c.id))),
        )
        for group in rows.groups
    ]
    items: list[ComponentView | GroupView] = [c for c in components if c.group_id is None]
    items.extend(g for g in group_views if g.components)
    items.sort(key=lambda item: (item.order, isinstance(item, GroupView), item.id))
    active = [r for r in reports if not r.resolved]
    status = overall_status(
        (c.status for c in components),
        unresolved_reports=bool(active),
        ongoing_maintenance=any(m.ongoing(now) for m in maintenances),
    )
    return PageSnapshot(
        page=config,
        generated_at=now,
        window_start=rows.window_start,
        items=tuple(items),
        components=tuple(sorted(components, key=lambda c: (c.order, c.id))),
        groups=tuple(sorted(group_views, key=lambda g: (g.order, g.id))),
        reports=tuple(reports),
        maintenances=tuple(maintenances),
        incidents=tuple(rows.incidents),
        status=status,
        has_older_events=rows.has_older_events,
    )


def _config(page: StatusPage) -> PageConfig:
    locales = [locale for locale in page.locales or [] if locale in LOCALES]
    default = page.default_locale if page.default_locale in LOCALES else "en"
    if default not in locales:
        locales.insert(0, default)
    return PageConfig(
        id=page.id,
        workspace_id=page.workspace_id,
        slug=page.slug,
        title=page.title,
        description=page.description or "",
        homepage_url=page.homepage_url,
        contact_url=page.contact_url,
        custom_domain=page.served_domain,
        published=page.published,
        has_icon=page.icon_content_type is not None,
        access_type=page.access_type,
        password_hash=page.password_hash,
        auth_email_domains=tuple(d.lower() for d in page.auth_email_domains or []),
        allowed_ip_ranges=tuple(page.allowed_ip_ranges or []),
        allow_index=page.allow_index,
        theme=page.theme,
        color_scheme=page.color_scheme,
        default_locale=default,
        locales=tuple(locales),
        white_label=page.white_label,
        tracker=TrackerConfig.from_json(page.tracker),
        updated_at=page.updated_at,
    )


async def _component_links(
    session: AsyncSession, owner: Column[int], ids: Sequence[int]
) -> dict[int, list[int]]:
    """The components linked to each of ``ids`` through ``owner``'s link table (reports, maintenances)."""
    component = owner.table.c.component_id
    links: dict[int, list[int]] = defaultdict(list)
    for owner_id, component_id in (
        await session.execute(select(owner, component).where(owner.in_(ids)))
    ).all():
        links[owner_id].append(component_id)
    return links


HISTORY_PAGE = 50


async def load_report(session: AsyncSession, page_id: int, report_id: int) -> ReportView | None:
    """One report of the page, however old (the snapshot holds only the tracker window's)."""
    found = await _reports(session, StatusReport.page_id == page_id, StatusReport.id == report_id)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class HistoryCursor:
    """Where a page of the archive ends: the last item's end, kind and id (the archive's order, descending)."""

    end: datetime
    kind: str | None = None  # "report" | "maintenance"; None: everything that ended before ``end``
    id: int = 0

    @classmethod
    def after(cls, item: ReportView | MaintenanceView) -> HistoryCursor:
        return cls(history_end(item), history_kind(item), item.id)


async def load_history(
    session: AsyncSession, page_id: int, *, before: HistoryCursor, limit: int = HISTORY_PAGE
) -> list[ReportView | MaintenanceView]:
    """Resolved reports and past maintenances after ``before`` in the archive's order: the latest ended first,
    then reports before maintenances, then the higher id. Items that end at the same moment are never skipped.
    """
    report_end, maintenance_end = StatusReport.resolved_at, Maintenance.ends_at
    reports = await _reports(
        session,
        StatusReport.page_id == page_id,
        StatusReport.status == "resolved",
        report_end.is_not(None),
        _older(report_end, StatusReport.id, "report", before),
        order=report_end.desc(),
        limit=limit,
    )
    maintenances = await _maintenances(
        session,
        Maintenance.page_id == page_id,
        _older(maintenance_end, Maintenance.id, "maintenance", before),
        order=maintenance_end.desc(),
        limit=limit,
    )
    items: list[ReportView | MaintenanceView] = [*reports, *maintenances]
    items.sort(key=_history_order, reverse=True)
    return items[:limit]


async def _has_history_before(session: AsyncSession, page_id: int, moment: datetime) -> bool:
    """Whether the archive has anything: two EXISTS probes, cheaper than loading its first item."""
    older_report = exists().where(
        StatusReport.page_id == page_id, StatusReport.status == "resolved", StatusReport.resolved_at < moment
    )
    older_maintenance = exists().where(Maintenance.page_id == page_id, Maintenance.ends_at < moment)
    return bool((await session.execute(select(or_(older_report, older_maintenance)))).scalar())


_KIND_RANK = {"maintenance": 0, "report": 1}


def _history_order(item: ReportView | MaintenanceView) -> tuple[datetime, int, int]:
    return history_end(item), _KIND_RANK[history_kind(item)], item.id


def _older(end: Any, id_column: Any, kind: str, cursor: HistoryCursor) -> ColumnElement[bool]:
    """This table's rows that come after ``cursor`` in the archive's (descending) order."""
    if cursor.kind is None:
        return end < cursor.end  # type: ignore[no-any-return]
    rank, cursor_rank = _KIND_RANK[kind], _KIND_RANK[cursor.kind]
    same_moment_after: ColumnElement[bool]
    if rank < cursor_rank:
        same_moment_after = true()
    elif rank > cursor_rank:
        same_moment_after = false()
    else:
        same_moment_after = id_column < cursor.id
    return or_(end < cursor.end, and_(end == cursor.end, same_moment_after))


def history_end(item: ReportView | MaintenanceView) -> datetime:
    """When a past event ended: the archive's order."""
    if isinstance(item, MaintenanceView):
        return item.ends_at
    return item.resolved_at or item.updated_at


def history_kind(item: ReportView | MaintenanceView) -> str:
    return "maintenance" if isinstance(item, MaintenanceView) else "report"


async def _reports(
    session: AsyncSession, *where: ColumnElement[bool], order: Any = None, limit: int | None = None
) -> list[ReportView]:
    query = select(StatusReport).where(*where)
    if order is not None:
        query = query.order_by(order, StatusReport.id.desc())
    rows = (await session.execute(query.limit(limit))).scalars().all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    updates: dict[int, list[ReportUpdateView]] = defaultdict(list)
    for u in (
        await session.execute(select(StatusReportUpdate).where(StatusReportUpdate.report_id.in_(ids)))
    ).scalars():
        updates[u.report_id].append(ReportUpdateView(u.id, u.status, u.message, u.date))
    links = await _component_links(session, status_report_components.c.report_id, ids)
    views = [
        ReportView(
            id=r.id,
            title=r.title,
            status=r.status,
            created_at=r.created_at,
            updated_at=r.updated_at,
            resolved_at=r.resolved_at,
            component_ids=tuple(sorted(links.get(r.id, []))),
            updates=tuple(sorted(updates.get(r.id, []), key=lambda u: (u.date, u.id), reverse=True)),
        )
        for r in rows
    ]
    return sorted(views, key=lambda r: (r.started_at, r.id), reverse=True)


async def _maintenances(
    session: AsyncSession, *where: ColumnElement[bool], order: Any = None, limit: int | None = None
) -> list[MaintenanceView]:
    query = select(Maintenance).where(*where)
    if order is not None:
        query = query.order_by(order, Maintenance.id.desc())
    rows = (await session.execute(query.limit(limit))).scalars().all()
    if not rows:
        return []
    links = await _component_links(session, maintenance_components.c.maintenance_id, [m.id for m in rows])
    views = [
        MaintenanceView(
            id=m.id,
            title=m.title,
            message=m.message or "",
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            created_at=m.created_at,
            updated_at=m.updated_at,
            component_ids=tuple(sorted(links.get(m.id, []))),
        )
        for m in rows
    ]
    return sorted(views, key=lambda m: (m.starts_at, m.id), reverse=True)


async def _incidents(
    session: AsyncSession, monitor_ids: Sequence[int], since: datetime
) -> list[IncidentView]:
    if not monitor_ids:
        return []
    rows = (
        await session.execute(
            select(Incident.id, Incident.monitor_id, Incident.started_at, Incident.resolved_at).where(
                Incident.monitor_id.in_(monitor_ids),
                or_(Incident.resolved_at.is_(None), Incident.resolved_at >= since),
            )
        )
    ).all()
    return sorted(
        (IncidentView(r.id, r.monitor_id, r.started_at, r.resolved_at) for r in rows),
        key=lambda i: (i.started_at, i.id),
        reverse=True,
    )


async def _daily_counts(
    session: AsyncSession, monitor_ids: Sequence[int], since: datetime
) -> dict[int, dict[date, Counts]]:
    if not monitor_ids:
        return {}
    rows = (
        await session.execute(
            select(
                CheckRollup.monitor_id,
                CheckRollup.bucket_start,
                func.sum(CheckRollup.success_count),
                func.sum(CheckRollup.degraded_count),
                func.sum(CheckRollup.error_count),
            )
            .where(
                CheckRollup.monitor_id.in_(monitor_ids),
                CheckRollup.granularity == "day",
                CheckRollup.bucket_start >= since,
            )
            .group_by(CheckRollup.monitor_id, CheckRollup.bucket_start)
        )
    ).all()
    counts: dict[int, dict[date, Counts]] = defaultdict(dict)
    for monitor_id, bucket_start, success, degraded, error in rows:
        day = bucket_start.astimezone(UTC).date() if isinstance(bucket_start, datetime) else bucket_start
        counts[monitor_id][day] = Counts(int(success or 0), int(degraded or 0), int(error or 0))
    return counts


def _component(
    component: PageComponent,
    *,
    monitor_status: str | None,
    monitor_public: bool,
    config: PageConfig,
    now: datetime,
    reports: Sequence[ReportView],
    maintenances: Sequence[MaintenanceView],
    incidents: Sequence[IncidentView],
    counts: dict[date, Counts],
    days: int,
) -> ComponentView:
    is_monitor = component.type == "monitor"
    mine_reports = [r for r in reports if component.id in r.component_ids]
    mine_maint = [m for m in maintenances if component.id in m.component_ids]
    status = component_status(
        is_monitor=is_monitor,
        open_incident=any(i.resolved_at is None for i in incidents),
        unresolved_report=any(not r.resolved for r in mine_reports),
        in_maintenance=any(m.ongoing(now) for m in mine_maint),
        monitor_degraded=monitor_status == "degraded",
    )
    tracker = build_tracker(
        config=config.tracker,
        is_monitor=is_monitor,
        now=now,
        since=component.created_at,
        counts=counts,
        incidents=[Happening("incident", i.id, "", i.interval(now)) for i in incidents],
        reports=[Happening("report", r.id, r.title, r.impact(now)) for r in mine_reports],
        maintenances=[
            Happening("maintenance", m.id, m.title, m.interval) for m in mine_maint if m.starts_at <= now
        ],
        days=days,
    )
    return ComponentView(
        id=component.id,
        name=component.name,
        description=component.description or "",
        type=component.type,
        monitor_id=component.monitor_id,
        monitor_public=monitor_public,
        group_id=component.group_id,
        order=component.order,
        group_order=component.group_order,
        status=status,
        tracker=tracker,
    )


@dataclass(frozen=True, slots=True)
class LatencyPoint:
    day: date
    p50: int | None
    p95: int | None
    p99: int | None
    checks: int


async def latency_series(
    session: AsyncSession, monitor_ids: Sequence[int], *, now: datetime, days: int = 30
) -> dict[int, list[LatencyPoint]]:
    """Daily response-time percentiles over all regions, from the daily rollups' histograms."""
    if not monitor_ids:
        return {}
    since = datetime.combine(now.astimezone(UTC).date() - timedelta(days=days - 1), datetime.min.time(), UTC)
    rows = (
        await session.execute(
            select(CheckRollup.monitor_id, CheckRollup.bucket_start, CheckRollup.latency_histogram).where(
                CheckRollup.monitor_id.in_(monitor_ids),
                CheckRollup.granularity == "day",
                CheckRollup.bucket_start >= since,
            )
        )
    ).all()
    merged: dict[tuple[int, date], dict[str, int]] = defaultdict(dict)
    for monitor_id, bucket_start, histogram in rows:
        merge_into(merged[(monitor_id, bucket_start.astimezone(UTC).date())], parse_histogram(histogram))
    series: dict[int, list[LatencyPoint]] = {}
    for monitor_id in monitor_ids:
        points = []
        for offset in range(days - 1, -1, -1):
            day = now.astimezone(UTC).date() - timedelta(days=offset)
            histogram = merged.get((monitor_id, day), {})
            p50, p95, p99 = percentiles(histogram, (50, 95, 99))
            points.append(LatencyPoint(day, p50, p95, p99, sum(histogram.values())))
        series[monitor_id] = points
    return series
