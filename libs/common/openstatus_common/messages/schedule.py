"""What the scheduler needs to know about a monitor (the value of the ``monitors`` key-value bucket)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from openstatus_common.messages.base import BusMessage, UtcDatetime
from openstatus_common.messages.checks import CheckTarget
from openstatus_common.vocab import Region

MONITORS_BUCKET = "monitors"


class ScheduleEntry(BusMessage):
    """An active monitor: check ``target`` from every region in ``regions`` every ``period_s`` seconds."""

    monitor_id: int
    workspace_id: int
    period_s: Annotated[int, Field(ge=1, le=86_400)]
    regions: tuple[Region, ...]
    target: CheckTarget
    updated_at: UtcDatetime


def monitor_key(monitor_id: int) -> str:
    return str(monitor_id)
