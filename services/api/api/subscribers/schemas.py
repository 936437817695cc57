"""Page subscriber bodies on the wire. The token in a subscriber's links is never returned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.pages.schemas import Strict


class SubscriberIn(Strict):
    """An email address to subscribe. By default it gets a confirmation mail and stays pending until the
    link is followed (double opt-in); ``skipConfirmation`` makes it active at once (the operator vouches)."""

    email: Annotated[str, Field(min_length=3, max_length=320)]
    skipConfirmation: bool = False


class SubscriberOut(BaseModel):
    id: str
    pageId: str
    email: str
    status: Literal["pending", "active", "unsubscribed"]
    acceptedAt: datetime | None
    unsubscribedAt: datetime | None
    createdAt: datetime
    updatedAt: datetime


class SubscriberList(BaseModel):
    items: list[SubscriberOut]
    totalSize: int
    limit: int
    offset: int
