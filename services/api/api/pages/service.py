"""Status page verbs: create, list, get, update, delete, and the favicon. Writes check the scope first.

Services flush, never commit: the router owns the transaction. Every change a visitor could see stages a
``page.changed`` event in the outbox; the router publishes it after the commit. The helpers the other page
resources share (``require_write``, ``get_page``, ``page_changed``, ``stage_events``) live here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.audit import service as audit
from api.auth.service import AuthContext
from api.pages.schemas import PageIn, PageOut, Tracker
from api.pagination import page_of
from openstatus_common.db.base import utcnow
from openstatus_common.db.engine import unit_of_work
from openstatus_common.db.models import Monitor, PageComponent, StatusPage, Workspace
from openstatus_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from openstatus_common.messages import Event, EventKind
from openstatus_common.outbox import stage
from openstatus_common.pages import domains
from openstatus_common.pages.passwords import hash_password
from openstatus_common.pages.svg import sanitize_svg
from openstatus_common.pages.urls import is_reserved_domain, page_url
from openstatus_common.settings import Settings

LIMIT_KEY = "status-pages"
# (page field, workspace limits flag, what the plan lacks): a flag set to false switches the feature off.
FEATURE_FLAGS = (
    ("customDomain", "custom-domain", "custom domains"),
    ("accessType", "password-protection", "password protection"),
    ("whiteLabel", "white-label", "white label"),
)
MAX_ICON_BYTES = 100 * 1024
# Where the status-page service serves a page's favicon, under the page's root URL.
ICON_PATH = "/favicon.ico"
ICON_TYPES = {
    "image/png": "image/png",
    "image/x-icon": "image/x-icon",
    "image/vnd.microsoft.icon": "image/x-icon",
    "image/svg+xml": "image/svg+xml",
}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_ICO_MAGIC = b"\x00\x00\x01\x00"


@dataclass
class PageLinks:
    """What the page shows, for the legacy fields: its component ids and its monitor components' monitors."""

    component_ids: list[int] = field(default_factory=list)
    monitor_ids: list[int] = field(default_factory=list)


def invalid_argument(error: ValidationError) -> InvalidArgument:
    """The first problem of a merged page, naming its field as the request validation does (``a.b[0]``)."""
    first = error.errors()[0]
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidArgument(f"{field or 'body'}: {message}", field=field or "body")


def require_write(auth: AuthContext) -> None:
    if not auth.can_write:
        raise PermissionDenied("this API key is read-only")


def page_event(kind: EventKind, event_id: str, *, workspace_id: int, **data: Any) -> Event:
    """An event about a status page; ``data`` carries ``page_id`` and the ids of what changed."""
    return Event(event_id=event_id, kind=kind, occurred_at=utcnow(), workspace_id=workspace_id, data=data)


def page_changed(page_id: int, workspace_id: int) -> Event:
    """``page.changed``: something the page shows changed (a unique id: every change is news)."""
    event_id = f"{EventKind.PAGE_CHANGED.value}:{page_id}:{uuid.uuid4().hex}"
    return page_event(EventKind.PAGE_CHANGED, event_id, workspace_id=workspace_id, page_id=page_id)


def stage_events(session: AsyncSession, *events: Event) -> list[Event]:
    """Stage ``events`` in the transaction's outbox and return them for publishing after the commit."""
    staged = list(events)
    stage(session, staged)
    return staged


async def get_page(
    session: AsyncSession, auth: AuthContext, page_id: int, *, field: str = "id"
) -> StatusPage:
    """The workspace's page, or NotFound (also for another workspace's page)."""
    page = (
        await session.execute(
            select(StatusPage).where(StatusPage.id == page_id, StatusPage.workspace_id == auth.workspace_id)
        )
    ).scalar_one_or_none()
    if page is None:
        raise NotFound(f"page {page_id} not found", field=field)
    return page


async def _limits(session: AsyncSession, auth: AuthContext) -> dict[str, Any]:
    limits = (
        await session.execute(select(Workspace.limits).where(Workspace.id == auth.workspace_id))
    ).scalar_one_or_none()
    return limits if isinstance(limits, dict) else {}


async def _check_features(
    session: AsyncSession, auth: AuthContext, data: PageIn, page: StatusPage | None = None
) -> None:
    """The plan's feature flags (``custom-domain``, ``password-protection``, ``white-label``): a flag set to
    false refuses turning the feature on; what a page already has is kept (a downgrade breaks no page)."""
    turned_on = {
        "customDomain": data.customDomain is not None
        and (page is None or page.custom_domain != data.customDomain),
        "accessType": data.accessType == "password" and (page is None or page.access_type != "password"),
        "whiteLabel": data.whiteLabel and (page is None or not page.white_label),
    }
    if not any(turned_on.values()):
        return
    limits = await _limits(session, auth)
    for page_field, flag, name in FEATURE_FLAGS:
        if turned_on[page_field] and limits.get(flag) is False:
            raise PermissionDenied(
                f"{page_field}: your plan does not include {name}", field=page_field, details={"limit": flag}
            )


async def _check_limit(session: AsyncSession, auth: AuthContext) -> None:
    limits = await _limits(session, auth)
    limit = limits.get(LIMIT_KEY)
    if not isinstance(limit, int) or isinstance(limit, bool):
        return
    count = (
        await session.execute(
            select(func.count()).select_from(StatusPage).where(StatusPage.workspace_id == auth.workspace_id)
        )
    ).scalar_one()
    if count >= limit:
        raise PermissionDenied(
            f"your plan allows {limit} status page{'s' if limit != 1 else ''}; delete one to create another",
            details={"limit": limit},
        )


async def _check_unique(
    session: AsyncSession, data: PageIn, settings: Settings, *, page_id: int | None = None
) -> None:
    """Slugs are unique across every workspace, and so are verified custom domains; the deployment's own
    hosts are no one's."""
    if data.customDomain is not None and is_reserved_domain(settings, data.customDomain):
        raise InvalidArgument(
            f"customDomain: {data.customDomain} belongs to this deployment; use a domain of your own",
            field="customDomain",
        )
    others = [StatusPage.id != page_id] if page_id is not None else []
    if (await session.execute(select(StatusPage.id).where(StatusPage.slug == data.slug, *others))).first():
        raise AlreadyExists("slug already taken", field="slug")
    if data.customDomain is not None and await _domain_held(session, data.customDomain, page_id=page_id):
        raise AlreadyExists("custom domain already taken", field="customDomain")


async def _domain_held(session: AsyncSession, domain: str, *, page_id: int | None) -> bool:
    """Whether another page holds ``domain``: only a verified claim does, so nobody can squat a domain."""
    others = [StatusPage.id != page_id] if page_id is not None else []
    held = select(StatusPage.id).where(
        StatusPage.custom_domain == domain, StatusPage.custom_domain_verified_at.is_not(None), *others
    )
    return (await session.execute(held)).first() is not None


def _check_access(data: PageIn, *, has_password: bool) -> None:
    """The rules across fields; each error names the field to fix."""
    if data.accessType == "password" and data.password is None and not has_password:
        raise InvalidArgument("password: required when accessType is password", field="password")
    if data.password is not None and data.accessType != "password":
        raise InvalidArgument("password: only used when accessType is password", field="password")
    if data.accessType == "email-domain" and not data.authEmailDomains:
        raise InvalidArgument(
            "authEmailDomains: at least one domain is required when accessType is email-domain",
            field="authEmailDomains",
        )
    if data.accessType == "ip-restriction" and not data.allowedIpRanges:
        raise InvalidArgument(
            "allowedIpRanges: at least one IPv4 range is required when accessType is ip-restriction",
            field="allowedIpRanges",
        )
    if data.locales and data.defaultLocale not in data.locales:
        raise InvalidArgument(
            f"locales: must include the default locale {data.defaultLocale!r}", field="locales"
        )


def _apply(page: StatusPage, data: PageIn, settings: Settings) -> None:
    page.title = data.title
    page.slug = data.slug
    page.description = data.description
    page.homepage_url = data.homepageUrl
    page.contact_url = data.contactUrl
    if data.customDomain != page.custom_domain:
        _claim_domain(page, data.customDomain, settings)
    page.published = data.published
    page.theme = data.theme
    page.color_scheme = data.colorScheme
    page.access_type = data.accessType
    page.auth_email_domains = list(data.authEmailDomains)
    page.allowed_ip_ranges = list(data.allowedIpRanges)
    page.default_locale = data.defaultLocale
    page.locales = list(data.locales)
    page.allow_index = data.allowIndex
    page.white_label = data.whiteLabel
    page.tracker = data.tracker.model_dump()


def _claim_domain(page: StatusPage, domain: str | None, settings: Settings) -> None:
    """A new custom domain starts unverified, with a fresh token (unless the deployment skips the proof)."""
    page.custom_domain = domain
    page.custom_domain_token = domains.new_token() if domain is not None else None
    trusted = domain is not None and not settings.custom_domain_verification
    page.custom_domain_verified_at = utcnow() if trusted else None


async def _set_password(page: StatusPage, data: PageIn) -> None:
    if data.accessType != "password":
        page.password_hash = None  # a password no longer guarding anything is not kept
    elif data.password is not None:
        page.password_hash = await asyncio.to_thread(hash_password, data.password)


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        # Lost a race with another request taking the same slug or domain after the check.
        raise AlreadyExists("slug or custom domain already taken", field="slug") from None


async def create_page(
    session: AsyncSession, auth: AuthContext, *, data: PageIn, settings: Settings
) -> tuple[StatusPage, list[Event]]:
    """Create a page; returns it and the staged ``page.changed`` event."""
    require_write(auth)
    _check_access(data, has_password=False)
    await _check_limit(session, auth)
    await _check_features(session, auth, data)
    await _check_unique(session, data, settings)
    page = StatusPage(workspace_id=auth.workspace_id)
    _apply(page, data, settings)
    await _set_password(page, data)
    session.add(page)
    await _flush_unique(session)
    audit.record(session, auth, action="page.create", entity_type="page", entity_id=page.id, slug=page.slug)
    return page, stage_events(session, page_changed(page.id, page.workspace_id))


async def list_pages(
    session: AsyncSession, auth: AuthContext, *, limit: int, offset: int
) -> tuple[list[StatusPage], int]:
    condition = StatusPage.workspace_id == auth.workspace_id

    return await page_of(session, StatusPage, [condition], (StatusPage.id,), limit=limit, offset=offset)


async def update_page(
    session: AsyncSession, auth: AuthContext, page_id: int, *, changes: dict[str, Any], settings: Settings
) -> tuple[StatusPage, list[Event]]:
    """Partial update: the stored page merged with ``changes`` (``tracker`` merged by its fields) must be a
    valid page."""
    require_write(auth)
    page = await get_page(session, auth, page_id)
    merged = {**to_input(page), **changes}
    if isinstance(changes.get("tracker"), dict):
        # The tracker is merged field by field: ``{"tracker": {"showUptime": false}}`` keeps the bar type.
        merged["tracker"] = {**stored_tracker(page), **changes["tracker"]}
    try:
        data = PageIn.model_validate(merged)
    except ValidationError as error:
        raise invalid_argument(error) from None
    _check_access(data, has_password=page.password_hash is not None)
    await _check_features(session, auth, data, page)
    await _check_unique(session, data, settings, page_id=page.id)
    _apply(page, data, settings)
    await _set_password(page, data)
    page.updated_at = utcnow()
    await _flush_unique(session)
    audit.record(
        session, auth, action="page.update", entity_type="page", entity_id=page.id, fields=sorted(changes)
    )
    return page, stage_events(session, page_changed(page.id, page.workspace_id))


async def delete_page(session: AsyncSession, auth: AuthContext, page_id: int) -> list[Event]:
    """Delete the page with its components, groups, reports, maintenances and subscribers."""
    require_write(auth)
    page = await get_page(session, auth, page_id)
    events = stage_events(session, page_changed(page.id, page.workspace_id))
    # The database cascades to everything the page owns (no ORM collection is loaded).
    await session.execute(delete(StatusPage).where(StatusPage.id == page.id))
    audit.record(session, auth, action="page.delete", entity_type="page", entity_id=page.id, slug=page.slug)
    return events


async def verify_custom_domain(
    sessions: async_sessionmaker[AsyncSession], auth: AuthContext, page_id: int, *, settings: Settings
) -> list[Event]:
    """Look up ``_openstatus.<domain>``; with the page's token there, the page starts answering at the domain.

    The lookup (seconds against a slow nameserver) holds no database connection. The proof is then recorded
    only if the page still claims the very domain and token that were looked up, so changing the domain
    during the lookup cannot get another domain verified. Idempotent: an already verified domain is left
    as it is, without a lookup or an event.
    """
    require_write(auth)
    async with sessions() as session:
        page = await get_page(session, auth, page_id)
        domain, token = page.custom_domain, page.custom_domain_token
        if domain is None:
            raise FailedPrecondition(
                "customDomain: the page has no custom domain to verify", field="customDomain"
            )
        if page.custom_domain_verified_at is not None:
            return []
        if token is None:  # cannot happen for claims made through the API: each one gets a token
            raise FailedPrecondition(
                "customDomain: set the domain again to get a TXT record", field="customDomain"
            )
        if await _domain_held(session, domain, page_id=page.id):
            raise AlreadyExists(f"customDomain: {domain} is verified by another page", field="customDomain")
    try:
        found = await domains.txt_records(domains.record_name(domain), settings.nameservers)
    except domains.DnsLookupFailed as error:
        raise Unavailable(f"customDomain: {error}; try again later", field="customDomain") from None
    if domains.record_value(token) not in (value.strip() for value in found):
        raise _not_proven(domain, token, found=found)
    async with unit_of_work(sessions) as session:
        now = utcnow()
        proven = (
            update(StatusPage)
            .where(
                StatusPage.id == page_id,
                StatusPage.workspace_id == auth.workspace_id,
                StatusPage.custom_domain == domain,
                StatusPage.custom_domain_token == token,
                StatusPage.custom_domain_verified_at.is_(None),
            )
            .values(custom_domain_verified_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        try:
            result = await session.execute(proven)
        except IntegrityError:  # another page verified the same domain a moment ago
            raise AlreadyExists(
                f"customDomain: {domain} is verified by another page", field="customDomain"
            ) from None
        if getattr(result, "rowcount", 0) != 1:
            current = await get_page(session, auth, page_id)
            if current.custom_domain == domain and current.custom_domain_verified_at is not None:
                return []  # a concurrent call verified it
            raise FailedPrecondition(
                "customDomain: the page's custom domain changed during the check; verify again",
                field="customDomain",
            )
        audit.record(
            session, auth, action="page.domain.verify", entity_type="page", entity_id=page_id, domain=domain
        )
        return stage_events(session, page_changed(page_id, auth.workspace_id))


def _not_proven(domain: str, token: str, *, found: list[str]) -> FailedPrecondition:
    name, value = domains.record_name(domain), domains.record_value(token)
    seen = f"found {', '.join(repr(v) for v in found[:5])}" if found else "found no TXT record"
    return FailedPrecondition(
        f"customDomain: publish a TXT record {name} = {value!r} and try again ({seen})",
        field="customDomain",
        details={"record": {"type": "TXT", "name": name, "value": value}},
    )


def check_icon(data: bytes, content_type: str) -> tuple[bytes, str]:
    """The bytes to store and their normalized type; InvalidArgument (field ``icon``) if they do not match.

    PNG and ICO files must start with their signature; an SVG is rebuilt by the sanitizer.
    """
    media_type = ICON_TYPES.get(content_type.split(";")[0].strip().lower())
    if media_type is None:
        raise InvalidArgument(
            f"icon: Content-Type must be one of {', '.join(ICON_TYPES)} (got {content_type or 'none'!r})",
            field="icon",
        )
    if not data:
        raise InvalidArgument("icon: the body is empty; send the image bytes", field="icon")
    if len(data) > MAX_ICON_BYTES:
        raise InvalidArgument(f"icon: must be at most {MAX_ICON_BYTES // 1024} KB", field="icon")
    if media_type == "image/png" and not data.startswith(_PNG_MAGIC):
        raise InvalidArgument("icon: not a PNG image (wrong file signature)", field="icon")
    if media_type == "image/x-icon" and not data.startswith(_ICO_MAGIC):
        raise InvalidArgument("icon: not an ICO image (wrong file signature)", field="icon")
    if media_type == "image/svg+xml":
        data = sanitize_svg(data)
    return data, media_type


async def set_icon(
    session: AsyncSession, auth: AuthContext, page_id: int, *, data: bytes, content_type: str
) -> tuple[StatusPage, list[Event]]:
    """Store the page's favicon (PNG, ICO or sanitized SVG, at most 100 KB)."""
    require_write(auth)
    page = await get_page(session, auth, page_id)
    page.icon, page.icon_content_type = check_icon(data, content_type)
    page.updated_at = utcnow()
    await session.flush()
    audit.record(
        session, auth, action="page.icon.update", entity_type="page", entity_id=page.id,
        contentType=page.icon_content_type, bytes=len(page.icon),
    )  # fmt: skip
    return page, stage_events(session, page_changed(page.id, page.workspace_id))


async def delete_icon(
    session: AsyncSession, auth: AuthContext, page_id: int
) -> tuple[StatusPage, list[Event]]:
    """Remove the page's favicon (idempotent: no event when there was none)."""
    require_write(auth)
    page = await get_page(session, auth, page_id)
    if page.icon is None:
        return page, []
    page.icon = page.icon_content_type = None
    page.updated_at = utcnow()
    await session.flush()
    audit.record(session, auth, action="page.icon.delete", entity_type="page", entity_id=page.id)
    return page, stage_events(session, page_changed(page.id, page.workspace_id))


async def page_links(session: AsyncSession, page_ids: Sequence[int]) -> dict[int, PageLinks]:
    """Each page's components in display order, and the live monitors of its monitor components."""
    links: dict[int, PageLinks] = defaultdict(PageLinks)
    if not page_ids:
        return links
    rows = await session.execute(
        select(
            PageComponent.page_id,
            PageComponent.id,
            PageComponent.type,
            PageComponent.monitor_id,
            Monitor.deleted_at,
        )
        .outerjoin(Monitor, Monitor.id == PageComponent.monitor_id)
        .where(PageComponent.page_id.in_(page_ids))
        .order_by(PageComponent.order, PageComponent.id)
    )
    for page_id, component_id, kind, monitor_id, deleted_at in rows:
        links[page_id].component_ids.append(component_id)
        if kind == "monitor" and monitor_id is not None and deleted_at is None:
            links[page_id].monitor_ids.append(monitor_id)
    return links


def to_input(page: StatusPage) -> dict[str, Any]:
    """The stored page in its input shape (without the password, which is only ever stored hashed)."""
    return {
        "title": page.title,
        "slug": page.slug,
        "description": page.description,
        "homepageUrl": page.homepage_url,
        "contactUrl": page.contact_url,
        "customDomain": page.custom_domain,
        "published": page.published,
        "theme": page.theme,
        "colorScheme": page.color_scheme,
        "accessType": page.access_type,
        "authEmailDomains": list(page.auth_email_domains or []),
        "allowedIpRanges": list(page.allowed_ip_ranges or []),
        "defaultLocale": page.default_locale,
        "locales": list(page.locales or []),
        "allowIndex": page.allow_index,
        "whiteLabel": page.white_label,
        "tracker": stored_tracker(page),
    }


def stored_tracker(page: StatusPage) -> dict[str, Any]:
    """The page's tracker settings with the defaults filled in."""
    stored = page.tracker or {}
    return Tracker.model_validate(
        {key: stored[key] for key in Tracker.model_fields if key in stored}
    ).model_dump()


def domain_verification(page: StatusPage) -> dict[str, Any] | None:
    """What the owner of the custom domain must publish, and whether it has been seen."""
    if page.custom_domain is None:
        return None
    record = None
    if page.custom_domain_token is not None:
        record = {
            "type": "TXT",
            "name": domains.record_name(page.custom_domain),
            "value": domains.record_value(page.custom_domain_token),
        }
    verified_at = page.custom_domain_verified_at
    return {"verified": verified_at is not None, "verifiedAt": verified_at, "record": record}


def to_output(page: StatusPage, links: PageLinks, settings: Settings) -> PageOut:
    icon_url = None
    if page.icon is not None:
        version = int(page.updated_at.timestamp())
        icon_url = f"{page_url(settings, page.slug, page.served_domain)}{ICON_PATH}?v={version}"
    return PageOut.model_validate(
        {
            "id": str(page.id),
            **to_input(page),
            "customDomainVerification": domain_verification(page),
            "hasPassword": page.password_hash is not None,
            "iconUrl": icon_url,
            "iconContentType": page.icon_content_type,
            "monitorIds": [str(monitor_id) for monitor_id in links.monitor_ids],
            "monitors": list(links.monitor_ids),
            "pageComponents": [str(component_id) for component_id in links.component_ids],
            "createdAt": page.created_at,
            "updatedAt": page.updated_at,
        }
    )
