"""Maintenance bodies on the wire: camelCase, ``from``/``to`` in RFC 3339 with a timezone, ids as strings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.pages.schemas import Id, Name, Strict, Timestamp, not_blank
from api.status_reports.schemas import ComponentIds, Message


class MaintenanceIn(Strict):
    """A planned window on a page. ``to`` must be after ``from``; ``notify`` mails the page's subscribers."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    title: Name
    message: Message
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    pageId: Id
    pageComponentIds: ComponentIds = []
    notify: bool = False

    _title = field_validator("title")(not_blank)

    @field_validator("to")
    @classmethod
    def _after_from(cls, to: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("from_")
        if start is not None and to <= start:
            raise ValueError("must be after from")
        return to


class MaintenancePatch(Strict):
    """Only the fields given change; ``pageComponentIds`` replaces the affected components. Moving the window
    re-arms the subscribers' reminder. ``notify`` mails the subscribers about this change."""

    title: Name | None = None
    message: Message | None = None
    from_: Timestamp | None = Field(default=None, alias="from")
    to: Timestamp | None = None
    pageComponentIds: ComponentIds | None = None
    notify: bool = False

    _title = field_validator("title")(not_blank)


class MaintenanceOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    title: str
    message: str
    from_: datetime = Field(alias="from")
    to: datetime
    # Where now is relative to the window.
    status: Literal["scheduled", "in_progress", "completed"]
    pageId: str
    pageComponentIds: list[str]
    # Announced to the page's subscribers (on create or a later update): they get the reminder too.
    notify: bool
    createdAt: datetime
    updatedAt: datetime


class MaintenanceList(BaseModel):
    items: list[MaintenanceOut]
    totalSize: int
    limit: int
    offset: int
