"""Keep the scheduler's monitors in step with the API.

The API puts each schedulable monitor into the ``monitors`` key-value bucket after its commit (and deletes
the key when a monitor is paused or deleted); the scheduler watches the bucket, so a change takes effect in
milliseconds without polling the database. As a safety net for a change whose put was lost (the API died
between its commit and the put), the bucket is reconciled with the database at start-up and every few
minutes.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.kv import KeyValue
from pydantic import ValidationError
from sqlalchemy import select

from openstatus_common.db.models import Monitor
from openstatus_common.messages import MONITORS_BUCKET, ScheduleEntry, monitor_key
from openstatus_common.monitors import schedule_entry
from openstatus_common.service import ServiceContext
from scheduler.engine import Scheduler

log = structlog.get_logger(__name__)

RECONCILE_EVERY_S = 300.0
KV_DELETE_OPERATIONS = ("DEL", "PURGE")


async def watch_bucket(kv: KeyValue, scheduler: Scheduler, stop: asyncio.Event) -> None:
    """Apply every put and delete in the bucket to the scheduler, starting with the current values."""
    watcher = await kv.watchall()
    try:
        while not stop.is_set():
            try:
                entry = await watcher.updates(timeout=1.0)  # type: ignore[no-untyped-call]
            except NatsTimeoutError:  # nothing changed: check stop and keep watching
                continue
            if entry is None:
                log.info("scheduler.initial_monitors_loaded", monitors=len(scheduler.entries))
                continue
            monitor_id = int(entry.key) if entry.key.isdigit() else None
            if monitor_id is None:
                log.warning("scheduler.bad_key", key=entry.key)
                continue
            if entry.operation in KV_DELETE_OPERATIONS or not entry.value:
                scheduler.remove(monitor_id)
                continue
            try:
                scheduler.upsert(ScheduleEntry.model_validate_json(entry.value))
            except ValidationError as error:
                log.error("scheduler.bad_entry", key=entry.key, error=str(error))
    finally:
        with contextlib.suppress(Exception):
            await watcher.stop()  # type: ignore[no-untyped-call]


async def reconcile(ctx: ServiceContext, kv: KeyValue) -> int:
    """Make the bucket match the database; return how many keys changed."""
    async with ctx.sessions() as session:
        monitors = (
            (await session.execute(select(Monitor).where(Monitor.deleted_at.is_(None)))).scalars().all()
        )
    wanted: dict[str, bytes] = {}
    for monitor in monitors:
        entry = schedule_entry(monitor)
        if entry is not None:
            wanted[monitor_key(monitor.id)] = entry.model_dump_json().encode()
    try:
        present = set(await kv.keys())
    except Exception:  # nats-py raises when the bucket has no keys
        present = set()
    changed = 0
    for key, value in wanted.items():
        current = None
        if key in present:
            with contextlib.suppress(Exception):
                current = (await kv.get(key)).value
        if current is None or ScheduleEntry.model_validate_json(current) != ScheduleEntry.model_validate_json(
            value
        ):
            await kv.put(key, value)
            changed += 1
    for key in present - wanted.keys():
        await kv.delete(key)
        changed += 1
    return changed


async def reconcile_forever(ctx: ServiceContext, kv: KeyValue) -> None:
    while not ctx.stop.is_set():
        try:
            changed = await reconcile(ctx, kv)
            if changed:
                log.warning("scheduler.reconciled", changed=changed)
        except Exception as error:
            log.warning("scheduler.reconcile_failed", error=str(error))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ctx.stop.wait(), RECONCILE_EVERY_S)


async def open_bucket(ctx: ServiceContext) -> KeyValue:
    return await ctx.bus.key_value(MONITORS_BUCKET)
