"""Durable pull consumer that hands messages to its handler in batches (one transaction per batch).

It settles messages like ``Consumer`` does, per message: a payload that fails validation, or a message
delivered more than ``max_deliveries`` times, is dead-lettered at once and never reaches the handler. The
valid ones go to ``handler(list[Delivery[M]])`` in one call and are all acked once it returns.

When the batch handler raises, each message of the batch is handled again alone (a batch of one), so one
poison message cannot hold back the good ones: the others succeed and are acked, and the bad one is
dead-lettered (``Reject``) or nak'ed with exponential backoff and dead-lettered after ``max_deliveries``.
A batch collects up to ``batch_size`` messages and waits at most ``max_wait`` after the first one to fill
up, which bounds the latency batching adds under light load. One batch is handled at a time.

On stop, the batch being handled finishes within ``shutdown_timeout`` (or is cancelled and handed back);
messages fetched but not started are nak'ed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from pydantic import ValidationError

from openstatus_common.bus.client import MSG_ID_HEADER, Bus
from openstatus_common.bus.consumer import (
    ConsumerSpec,
    Delivery,
    M,
    Reject,
    _wait_or_stop,
    deadletter,
    declare_consumer,
    nak_quietly,
    summarize_validation_error,
)

log = structlog.get_logger(__name__)

BatchHandler = Callable[[list[Delivery[M]]], Awaitable[None]]

# A fetch needs a positive timeout; below this, filling the batch is not worth another round trip.
_MIN_FILL_WAIT = 0.002


@dataclass
class _Pending(Generic[M]):
    """A fetched message that passed validation and waits for its batch to settle it."""

    msg: Msg
    delivery: Delivery[M]
    settled: bool = False


@dataclass
class BatchConsumer(Generic[M]):
    """``ConsumerSpec.concurrency`` is not used: one batch of up to ``batch_size`` is handled at a time."""

    bus: Bus
    spec: ConsumerSpec
    model: type[M]
    handler: BatchHandler[M]
    batch_size: int = 256
    max_wait: float = 0.1
    shutdown_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if self.max_wait < 0:
            raise ValueError("max_wait must be >= 0")

    async def declare(self) -> None:
        # Room for a batch in hand and the next one being fetched, per replica.
        await declare_consumer(self.bus, self.spec, in_hand=self.batch_size)

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle batches until ``stop`` is set, then finish the batch in hand within the bound."""
        await self.declare()
        subscription = await self.bus.js.pull_subscribe_bind(
            durable=self.spec.durable, stream=self.spec.stream
        )
        bound_log = log.bind(consumer=self.spec.durable)
        bound_log.info("batch_consumer.started", subject=self.spec.filter_subject, batch_size=self.batch_size)
        try:
            while not stop.is_set():
                messages = await self._collect(subscription, stop, bound_log)
                if not messages:
                    continue
                if stop.is_set():
                    for msg in messages:
                        await nak_quietly(msg)  # fetched but not started: hand it back now
                    break
                await self._run_batch(messages, stop, bound_log)
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
            bound_log.info("batch_consumer.stopped")

    async def _collect(
        self,
        subscription: JetStreamContext.PullSubscription,
        stop: asyncio.Event,
        bound_log: structlog.typing.FilteringBoundLogger,
    ) -> list[Msg]:
        """Wait for a first message, then up to ``max_wait`` for the batch to fill."""
        fetch = subscription.fetch
        try:
            messages = list(await fetch(self.batch_size, timeout=self.spec.fetch_timeout))
        except (TimeoutError, NatsTimeoutError):
            return []
        except Exception as error:  # connection trouble: the client reconnects, we retry
            bound_log.warning("batch_consumer.fetch_failed", error=str(error) or type(error).__name__)
            await _wait_or_stop(stop, 0.5)
            return []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        try:
            while len(messages) < self.batch_size and not stop.is_set():
                remaining = deadline - loop.time()
                if remaining < _MIN_FILL_WAIT:
                    break
                try:
                    messages.extend(await fetch(self.batch_size - len(messages), timeout=remaining))
                except (TimeoutError, NatsTimeoutError):
                    break
                except Exception as error:
                    bound_log.warning("batch_consumer.fetch_failed", error=str(error) or type(error).__name__)
                    break
        except asyncio.CancelledError:
            for msg in messages:
                await nak_quietly(msg)  # fetched but not started: hand it back now
            raise
        return messages

    async def _run_batch(
        self, messages: list[Msg], stop: asyncio.Event, bound_log: structlog.typing.FilteringBoundLogger
    ) -> None:
        """Handle one batch; once ``stop`` is set, give it ``shutdown_timeout`` more, then cancel it."""
        task = asyncio.create_task(self._settle_batch(messages))
        try:
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
            if not task.done():
                _, running = await asyncio.wait({task}, timeout=self.shutdown_timeout)
                if running:
                    bound_log.warning("batch_consumer.abandoning_batch", count=len(messages))
        finally:
            # Overran the bound, or this consumer itself was cancelled: hand the batch back (it naks).
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _settle_batch(self, messages: list[Msg]) -> None:
        pending: list[_Pending[M]] = []
        admitted = 0
        try:
            for msg in messages:
                item = await self._admit(msg)
                admitted += 1
                if item is not None:
                    pending.append(item)
            if not pending:
                return
            heartbeat = asyncio.create_task(
                _keep_all_alive([item.msg for item in pending], self.spec.ack_wait)
            )
            try:
                await self._handle(pending)
            finally:
                heartbeat.cancel()
        except asyncio.CancelledError:
            # Shutdown overran its bound: what is not settled goes back for another consumer.
            unsettled = [item.msg for item in pending if not item.settled] + messages[admitted:]
            for msg in unsettled:
                await nak_quietly(msg)
            raise
        except Exception as error:
            # Acking or dead-lettering failed (NATS gone): the server redelivers after ack_wait.
            log.warning("batch_consumer.settle_failed", consumer=self.spec.durable, error=repr(error))

    async def _admit(self, msg: Msg) -> _Pending[M] | None:
        """Validate one message; dead-letter it (and return None) when it can never be handled."""
        metadata = msg.metadata
        delivered = metadata.num_delivered
        headers = msg.headers or {}
        if delivered > self.spec.max_deliveries:
            # Delivered again after its last attempt died without an answer (a crash, a timeout).
            await self._deadletter(msg, f"no ack after {self.spec.max_deliveries} deliveries")
            return None
        try:
            message = self.model.model_validate_json(msg.data)
        except ValidationError as error:
            await self._deadletter(msg, f"invalid message: {summarize_validation_error(error)}")
            return None
        delivery = Delivery(
            message=message,
            subject=msg.subject,
            msg_id=headers.get(MSG_ID_HEADER),
            delivered=delivered,
            stream_sequence=metadata.sequence.stream,
        )
        return _Pending(msg, delivery)

    async def _handle(self, pending: list[_Pending[M]]) -> None:
        if len(pending) > 1:
            try:
                await self.handler([item.delivery for item in pending])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "batch_consumer.batch_failed",
                    consumer=self.spec.durable,
                    size=len(pending),
                    error=repr(error),
                )
            else:
                for item in pending:
                    await item.msg.ack()
                    item.settled = True
                return
        # One at a time: a message that fails alone is the one to retry or dead-letter.
        for item in pending:
            await self._handle_alone(item)

    async def _handle_alone(self, item: _Pending[M]) -> None:
        delivered = item.delivery.delivered
        try:
            await self.handler([item.delivery])
        except asyncio.CancelledError:
            raise
        except Reject as error:
            await self._deadletter(item.msg, f"rejected: {error}")
        except Exception as error:
            if delivered >= self.spec.max_deliveries:
                await self._deadletter(item.msg, f"failed {delivered} times, last: {error!r}")
            else:
                delay = self.spec.delay(delivered)
                log.warning(
                    "batch_consumer.retry",
                    consumer=self.spec.durable,
                    subject=item.msg.subject,
                    msg_id=item.delivery.msg_id,
                    delivered=delivered,
                    error=repr(error),
                    delay=delay,
                )
                await nak_quietly(item.msg, delay)
        else:
            await item.msg.ack()
        item.settled = True

    async def _deadletter(self, msg: Msg, reason: str) -> None:
        await deadletter(self.bus, msg, reason, consumer=self.spec.durable)
        log.error(
            "batch_consumer.deadlettered",
            consumer=self.spec.durable,
            subject=msg.subject,
            msg_id=(msg.headers or {}).get(MSG_ID_HEADER),
            delivered=msg.metadata.num_delivered,
            reason=reason,
        )


async def _keep_all_alive(messages: list[Msg], ack_wait: float) -> None:
    """``keep_alive`` for a whole batch in one task, so a slow batch is not redelivered mid-flight."""
    while True:
        await asyncio.sleep(ack_wait / 2)
        for msg in messages:
            with contextlib.suppress(Exception):
                await msg.in_progress()
