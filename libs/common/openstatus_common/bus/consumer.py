"""Durable pull consumers with explicit ack, backoff, dead-lettering and graceful stop.

A handler returns normally: the message is acked. It raises ``Reject``, or the payload fails validation:
the message can never succeed, so it goes to the dead-letter stream at once. Anything else: the message is
nak'ed with an exponential delay, and after ``max_deliveries`` attempts it is dead-lettered too. A consumer
killed without acking gets its messages back after ``ack_wait``; one stopped by SIGTERM finishes in-flight
work within a bound and hands back (nak) what it did not start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import BaseModel, ValidationError

from openstatus_common.bus.client import MSG_ID_HEADER, Bus
from openstatus_common.bus.streams import deadletter_subject

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)

DLQ_REASON = "Openstatus-Dlq-Reason"
DLQ_STREAM = "Openstatus-Dlq-Stream"
DLQ_CONSUMER = "Openstatus-Dlq-Consumer"
DLQ_DELIVERIES = "Openstatus-Dlq-Deliveries"
DLQ_SUBJECT = "Openstatus-Dlq-Subject"


class Reject(Exception):
    """Raised by a handler for a message that can never be processed: dead-letter it now."""


@dataclass(frozen=True)
class ConsumerSpec:
    stream: str
    durable: str
    filter_subject: str
    max_deliveries: int = 5
    ack_wait: float = 30.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    concurrency: int = 16
    fetch_timeout: float = 0.5

    def delay(self, delivered: int) -> float:
        """Exponential backoff before the next delivery of a message that failed ``delivered`` times."""
        return float(min(self.backoff_max, self.backoff_base * 2 ** max(0, delivered - 1)))


@dataclass
class Delivery(Generic[M]):
    """A validated message with the metadata a handler may need."""

    message: M
    subject: str
    msg_id: str | None
    delivered: int
    stream_sequence: int


Handler = Callable[[Delivery[M]], Awaitable[None]]


@dataclass
class Consumer(Generic[M]):
    bus: Bus
    spec: ConsumerSpec
    model: type[M]
    handler: Handler[M]
    shutdown_timeout: float = 10.0
    _inflight: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    async def declare(self) -> None:
        await declare_consumer(self.bus, self.spec, in_hand=self.spec.concurrency)

    async def run(self, stop: asyncio.Event) -> None:
        """Pull and handle messages until ``stop`` is set, then finish in-flight work within the bound."""
        await self.declare()
        subscription = await self.bus.js.pull_subscribe_bind(
            durable=self.spec.durable, stream=self.spec.stream
        )
        bound_log = log.bind(consumer=self.spec.durable)
        bound_log.info("consumer.started", subject=self.spec.filter_subject)
        try:
            while not stop.is_set():
                free = self.spec.concurrency - len(self._inflight)
                if free <= 0:
                    # Never hold messages we cannot start: they would sit out their ack_wait.
                    await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                try:
                    messages = await subscription.fetch(free, timeout=self.spec.fetch_timeout)
                except (TimeoutError, NatsTimeoutError):
                    continue
                except Exception as error:  # connection trouble: the client reconnects, we retry
                    bound_log.warning("consumer.fetch_failed", error=str(error))
                    await _wait_or_stop(stop, 0.5)
                    continue
                for msg in messages:
                    if stop.is_set():
                        await nak_quietly(msg)  # fetched but not started: hand it back now
                        continue
                    task = asyncio.create_task(self._handle(msg))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
        finally:
            await self._finish_inflight(bound_log)
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
            bound_log.info("consumer.stopped")

    async def _finish_inflight(self, bound_log: structlog.typing.FilteringBoundLogger) -> None:
        if not self._inflight:
            return
        pending = set(self._inflight)
        _, still_running = await asyncio.wait(pending, timeout=self.shutdown_timeout)
        if still_running:
            bound_log.warning("consumer.abandoning_inflight", count=len(still_running))
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)

    async def _handle(self, msg: Msg) -> None:
        try:
            await self._process(msg)
        except asyncio.CancelledError:
            # Shutdown overran its bound: the message goes back to the stream for another consumer.
            await nak_quietly(msg)
            raise
        except Exception as error:
            # Acking or dead-lettering failed (NATS gone): the server redelivers after ack_wait.
            log.warning("consumer.settle_failed", consumer=self.spec.durable, error=repr(error))

    async def _process(self, msg: Msg) -> None:
        metadata = msg.metadata
        delivered = metadata.num_delivered
        headers = msg.headers or {}
        bound_log = log.bind(
            consumer=self.spec.durable,
            subject=msg.subject,
            msg_id=headers.get(MSG_ID_HEADER),
            delivered=delivered,
        )
        if delivered > self.spec.max_deliveries:
            # Delivered again after its last attempt died without an answer (a crash, a timeout).
            await self._deadletter(msg, f"no ack after {self.spec.max_deliveries} deliveries", bound_log)
            return
        try:
            message = self.model.model_validate_json(msg.data)
        except ValidationError as error:
            await self._deadletter(msg, f"invalid message: {summarize_validation_error(error)}", bound_log)
            return
        delivery = Delivery(
            message=message,
            subject=msg.subject,
            msg_id=headers.get(MSG_ID_HEADER),
            delivered=delivered,
            stream_sequence=metadata.sequence.stream,
        )
        heartbeat = asyncio.create_task(keep_alive(msg, self.spec.ack_wait))
        try:
            await self.handler(delivery)
        except Reject as error:
            await self._deadletter(msg, f"rejected: {error}", bound_log)
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if delivered >= self.spec.max_deliveries:
                await self._deadletter(msg, f"failed {delivered} times, last: {error!r}", bound_log)
            else:
                delay = self.spec.delay(delivered)
                bound_log.warning("consumer.retry", error=repr(error), delay=delay)
                await nak_quietly(msg, delay)
            return
        finally:
            heartbeat.cancel()
        await msg.ack()

    async def _deadletter(
        self, msg: Msg, reason: str, bound_log: structlog.typing.FilteringBoundLogger
    ) -> None:
        await deadletter(self.bus, msg, reason, consumer=self.spec.durable)
        bound_log.error("consumer.deadlettered", reason=reason)


async def declare_consumer(bus: Bus, spec: ConsumerSpec, *, in_hand: int) -> None:
    """Create or update the durable pull consumer; ``in_hand`` is how many messages one replica holds."""
    config = ConsumerConfig(
        durable_name=spec.durable,
        filter_subject=spec.filter_subject,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=spec.ack_wait,
        # One more than ours so the final delivery reaches us and we dead-letter it ourselves.
        max_deliver=spec.max_deliveries + 1,
        max_ack_pending=max(1000, in_hand * 4),
    )
    await bus.js.add_consumer(spec.stream, config)


async def deadletter(bus: Bus, msg: Msg, reason: str, *, consumer: str) -> None:
    """Store the message in the dead-letter stream with why, where from and how often; then ack it."""
    metadata = msg.metadata
    headers = {
        **(msg.headers or {}),
        DLQ_REASON: reason[:1000],
        DLQ_STREAM: metadata.stream,
        DLQ_CONSUMER: consumer,
        DLQ_DELIVERIES: str(metadata.num_delivered),
        DLQ_SUBJECT: msg.subject,
    }
    headers.pop(MSG_ID_HEADER, None)
    await bus.publish(
        deadletter_subject(msg.subject),
        msg.data,
        msg_id=f"dlq:{metadata.stream}:{metadata.sequence.stream}:{consumer}",
        headers=headers,
    )
    # Stored in the dead-letter stream: the consumer is done with it.
    await msg.ack()


async def keep_alive(msg: Msg, ack_wait: float) -> None:
    """Tell the server we are still working so a long check is not redelivered mid-flight."""
    while True:
        await asyncio.sleep(ack_wait / 2)
        with contextlib.suppress(Exception):
            await msg.in_progress()


async def nak_quietly(msg: Msg, delay: float | None = None) -> None:
    with contextlib.suppress(Exception):
        await msg.nak(delay=delay)


async def _wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def summarize_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        location = ".".join(str(part) for part in item["loc"]) or "message"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)
