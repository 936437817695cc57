"""Common base for bus messages: a schema version and strict, UTC-aware fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]

SCHEMA_VERSION = 1


class BusMessage(BaseModel):
    """Fields added later are optional, so old consumers ignore them; a new major bumps ``v``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Annotated[int, Field(ge=SCHEMA_VERSION, le=SCHEMA_VERSION)] = SCHEMA_VERSION
