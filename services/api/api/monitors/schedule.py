"""After a monitor change is committed, tell the schedulers (the ``monitors`` key-value bucket)."""

from __future__ import annotations

import structlog

from openstatus_common.bus import Bus
from openstatus_common.db.models import Monitor
from openstatus_common.messages import MONITORS_BUCKET, monitor_key
from openstatus_common.monitors import schedule_entry

log = structlog.get_logger(__name__)


async def publish_schedule(bus: Bus, monitor: Monitor) -> None:
    """Put the monitor's schedule entry, or delete it when the monitor must not run.

    A failure here is logged, not raised: the change is committed, and the scheduler reconciles the bucket
    with the database periodically, so a missed update is late, never lost.
    """
    key = monitor_key(monitor.id)
    entry = schedule_entry(monitor)
    try:
        kv = await bus.key_value(MONITORS_BUCKET)
        if entry is None:
            await kv.delete(key)
        else:
            await kv.put(key, entry.model_dump_json().encode())
    except Exception as error:
        log.warning("monitor.schedule_publish_failed", monitor_id=monitor.id, error=str(error))
