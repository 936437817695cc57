"""Status report bodies on the wire: camelCase, statuses in any spelling (``resolved``,
``STATUS_REPORT_STATUS_RESOLVED``, ``4``), dates in RFC 3339 with a timezone, ids returned as strings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, field_validator

from api.pages.schemas import Id, Name, Strict, Timestamp, not_blank
from openstatus_common.vocab import STATUS_REPORT_STATUS, StatusReportStatus

MAX_COMPONENTS = 500
Message = Annotated[str, Field(min_length=1, max_length=10_000)]


def _status(value: Any) -> StatusReportStatus:
    return STATUS_REPORT_STATUS.parse(value)


StatusField = Annotated[StatusReportStatus, BeforeValidator(_status), PlainSerializer(lambda s: s.value)]
ComponentIds = Annotated[list[Id], Field(max_length=MAX_COMPONENTS)]


class ReportIn(Strict):
    """A new report and its first timeline entry. ``date`` (when it happened) defaults to now; ``notify``
    mails the page's subscribers."""

    title: Name
    status: StatusField
    message: Message
    date: Timestamp | None = None
    pageId: Id
    pageComponentIds: ComponentIds = []
    notify: bool = False

    _title = field_validator("title")(not_blank)
    _message = field_validator("message")(not_blank)


class ReportPatch(Strict):
    """Metadata only; ``pageComponentIds``, when given, replaces the affected components. Timeline entries
    are added with ``POST /v1/status-report/{id}/update``."""

    title: Name | None = None
    pageComponentIds: ComponentIds | None = None

    _title = field_validator("title")(not_blank)


class ReportUpdateIn(Strict):
    """A timeline entry: the report takes its status (``resolved`` resolves it, anything else reopens it)."""

    status: StatusField
    message: Message
    date: Timestamp | None = None
    notify: bool = False

    _message = field_validator("message")(not_blank)


class ReportUpdateOut(BaseModel):
    id: str
    status: StatusReportStatus
    message: str
    date: datetime
    createdAt: datetime


class ReportSummary(BaseModel):
    id: str
    title: str
    status: StatusReportStatus
    pageId: str
    pageComponentIds: list[str]
    resolvedAt: datetime | None
    createdAt: datetime
    updatedAt: datetime


class ReportOut(ReportSummary):
    # The timeline, newest first.
    updates: list[ReportUpdateOut]


class ReportList(BaseModel):
    items: list[ReportSummary]
    totalSize: int
    limit: int
    offset: int
