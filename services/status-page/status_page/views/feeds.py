"""The page's feeds: RSS 2.0 and Atom 1.0 (one item per report update and per maintenance, newest first) and
the JSON feed of seed page 28 (camelCase, with the deprecated ``monitors`` fields kept for compatibility).

The XML is built with ElementTree, so everything users typed is escaped; item bodies are HTML (escaped once
more, as RSS and Atom ``type="html"`` expect), and characters XML 1.0 cannot carry are dropped. Dates come
from the data only (never "now"), so an unchanged page renders the same bytes and keeps its ETag.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import Any

from starlette.responses import Response

from openstatus_common.pages.snapshot import MaintenanceView, PageSnapshot, ReportUpdateView, ReportView
from status_page.context import PageRequest
from status_page.views.common import respond

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSON = "application/json"
ATOM_NS = "http://www.w3.org/2005/Atom"
GENERATOR = "openstatus"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z`` (what JavaScript's ``toISOString`` gives)."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_or_none(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def last_changed(snapshot: PageSnapshot) -> datetime:
    """When anything the feeds show last changed, as far as the data says."""
    moments = [snapshot.page.updated_at]
    moments += [r.updated_at for r in snapshot.reports]
    moments += [u.date for r in snapshot.reports for u in r.updates]
    moments += [m.updated_at for m in snapshot.maintenances]
    return max(moments)


def public_headers(pr: PageRequest) -> dict[str, str]:
    """Cross-origin reads for public pages only: a password, email or IP gated page's data must not be
    readable by another site's script running in an allowed visitor's browser."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if pr.snapshot.page.access_type == "public":
        headers["Access-Control-Allow-Origin"] = "*"
    return headers


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _rfc822(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _html(*paragraphs: str) -> str:
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p.strip())


# --- items ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    title: str
    link: str
    published: datetime
    updated: datetime
    category: str
    body_html: str


def _affected(pr: PageRequest, component_ids: tuple[int, ...]) -> str:
    names = [c.name for c in (pr.snapshot.component(i) for i in component_ids) if c is not None]
    return f"{pr.t('affected')}: {', '.join(names)}" if names else ""


def _update_item(pr: PageRequest, report: ReportView, update: ReportUpdateView) -> Item:
    path = f"events/report/{report.id}"
    return Item(
        id=pr.absolute(path, locale=pr.snapshot.page.default_locale) + f"#update-{update.id}",
        title=f"{pr.t('report.' + update.status)}: {report.title}",
        link=pr.absolute(path),
        published=update.date,
        updated=update.date,
        category=update.status,
        body_html=_html(update.message, _affected(pr, report.component_ids)),
    )


def _maintenance_item(pr: PageRequest, maintenance: MaintenanceView) -> Item:
    window = pr.t(
        "from_to", start=pr.t.datetime(maintenance.starts_at), end=pr.t.datetime(maintenance.ends_at)
    )
    anchor = f"#maintenance-{maintenance.id}"
    return Item(
        id=pr.absolute("events", locale=pr.snapshot.page.default_locale) + anchor,
        title=f"{pr.t('component.info')}: {maintenance.title}",
        link=pr.absolute("events") + anchor,
        published=maintenance.created_at,
        updated=maintenance.updated_at,
        category="maintenance",
        body_html=_html(maintenance.message, window, _affected(pr, maintenance.component_ids)),
    )


def feed_items(pr: PageRequest) -> list[Item]:
    """Every report update and every maintenance of the snapshot, newest first."""
    items = [_update_item(pr, report, update) for report in pr.snapshot.reports for update in report.updates]
    items += [_maintenance_item(pr, maintenance) for maintenance in pr.snapshot.maintenances]
    items.sort(key=lambda item: (item.published, item.id), reverse=True)
    return items


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = _text(text)
    return element


def _channel_description(pr: PageRequest) -> str:
    page = pr.snapshot.page
    return page.description or page.title


# --- RSS 2.0 -------------------------------------------------------------------------------------------------


def render_rss(pr: PageRequest) -> bytes:
    page = pr.snapshot.page
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", page.title)
    _sub(channel, "link", pr.absolute())
    _sub(channel, "description", _channel_description(pr))
    _sub(channel, "language", pr.locale)
    _sub(channel, "lastBuildDate", _rfc822(last_changed(pr.snapshot)))
    _sub(channel, "generator", GENERATOR)
    _sub(channel, "atom:link", href=pr.absolute("feed/rss"), rel="self", type="application/rss+xml")
    for item in feed_items(pr):
        entry = _sub(channel, "item")
        _sub(entry, "title", item.title)
        _sub(entry, "link", item.link)
        _sub(entry, "guid", item.id, isPermaLink="false")
        _sub(entry, "pubDate", _rfc822(item.published))
        _sub(entry, "category", item.category)
        _sub(entry, "description", item.body_html)
    body: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return body


# --- Atom 1.0 ------------------------------------------------------------------------------------------------


def render_atom(pr: PageRequest) -> bytes:
    page = pr.snapshot.page
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": pr.locale})
    _sub(feed, "id", pr.absolute("feed/atom"))
    _sub(feed, "title", page.title, type="text")
    if page.description:
        _sub(feed, "subtitle", page.description, type="text")
    _sub(feed, "updated", _rfc3339(last_changed(pr.snapshot)))
    _sub(feed, "link", rel="alternate", type="text/html", href=pr.absolute())
    _sub(feed, "link", rel="self", type="application/atom+xml", href=pr.absolute("feed/atom"))
    author = _sub(feed, "author")
    _sub(author, "name", page.title)
    _sub(feed, "generator", GENERATOR)
    for item in feed_items(pr):
        entry = _sub(feed, "entry")
        _sub(entry, "id", item.id)
        _sub(entry, "title", item.title, type="text")
        _sub(entry, "link", rel="alternate", type="text/html", href=item.link)
        _sub(entry, "published", _rfc3339(item.published))
        _sub(entry, "updated", _rfc3339(item.updated))
        _sub(entry, "category", term=item.category)
        _sub(entry, "content", item.body_html, type="html")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


# --- JSON (seed page 28) --------------------------------------------------------------------------------


def _monitor_ids(snapshot: PageSnapshot, component_ids: tuple[int, ...]) -> list[int]:
    """Deprecated: the monitors behind those components (static components have none)."""
    found = (snapshot.component(i) for i in component_ids)
    return [c.monitor_id for c in found if c is not None and c.monitor_id is not None]


def feed_json(snapshot: PageSnapshot) -> dict[str, Any]:
    page = snapshot.page
    show_uptime = page.tracker.show_uptime
    return {
        "title": page.title,
        "description": page.description,
        "status": snapshot.status.value,
        "updatedAt": iso(last_changed(snapshot)),
        "pageComponents": [
            {
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "type": c.type,
                "status": c.status.value,
                "monitorId": c.monitor_id,
                "groupId": c.group_id,
                "order": c.order,
                "uptime": c.tracker.uptime if show_uptime else None,
            }
            for c in snapshot.components
        ],
        "pageComponentGroups": [{"id": g.id, "name": g.name, "order": g.order} for g in snapshot.groups],
        # Deprecated: use pageComponents.
        "monitors": [
            {"id": c.monitor_id, "name": c.name, "status": c.status.value}
            for c in snapshot.components
            if c.type == "monitor" and c.monitor_id is not None
        ],
        "statusReports": [
            {
                "id": r.id,
                "title": r.title,
                "status": r.status,
                "createdAt": iso(r.created_at),
                "updatedAt": iso(r.updated_at),
                "resolvedAt": iso_or_none(r.resolved_at),
                "pageComponents": list(r.component_ids),
                # Deprecated: use pageComponents.
                "monitors": _monitor_ids(snapshot, r.component_ids),
                "updates": [
                    {"id": u.id, "status": u.status, "message": u.message, "date": iso(u.date)}
                    for u in r.updates
                ],
            }
            for r in snapshot.reports
        ],
        "maintenances": [
            {
                "id": m.id,
                "title": m.title,
                "message": m.message,
                "from": iso(m.starts_at),
                "to": iso(m.ends_at),
                "pageComponents": list(m.component_ids),
                # Deprecated: use pageComponents.
                "monitors": _monitor_ids(snapshot, m.component_ids),
            }
            for m in snapshot.maintenances
        ],
    }


def dump_json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


# --- views ---------------------------------------------------------------------------------------------------


async def rss(pr: PageRequest) -> Response:
    async def render() -> tuple[bytes, str]:
        return render_rss(pr), RSS

    return await respond(pr, ("rss", pr.absolute()), render, headers={"X-Content-Type-Options": "nosniff"})


async def atom(pr: PageRequest) -> Response:
    async def render() -> tuple[bytes, str]:
        return render_atom(pr), ATOM

    return await respond(pr, ("atom", pr.absolute()), render, headers={"X-Content-Type-Options": "nosniff"})


async def json_feed(pr: PageRequest) -> Response:
    async def render() -> tuple[bytes, str]:
        return dump_json(feed_json(pr.snapshot)), JSON

    return await respond(pr, ("json",), render, headers=public_headers(pr))
