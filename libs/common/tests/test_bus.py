"""The bus against a real nats-server with JetStream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy

from openstatus_common.bus import Bus, Consumer, ConsumerSpec, Delivery, Reject, StreamName
from openstatus_common.bus.consumer import DLQ_DELIVERIES, DLQ_REASON
from openstatus_common.bus.streams import event_subject
from openstatus_common.messages import Event, EventKind
from openstatus_common.testing.processes import wait_for


def make_event(n: int) -> Event:
    return Event(
        event_id=f"evt-{n}",
        kind=EventKind.MONITOR_ERROR,
        occurred_at=datetime.now(UTC),
        workspace_id=1,
        monitor_id=n,
    )


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="test")
    await bus.ensure_streams()
    yield bus
    await bus.close()


@contextlib.asynccontextmanager
async def running(consumer: Consumer[Event]) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    await consumer.declare()  # so the test can inspect the consumer at once
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def spec(**overrides: object) -> ConsumerSpec:
    values: dict[str, object] = {
        "stream": StreamName.EVENTS.value,
        "durable": "test-consumer",
        "filter_subject": "events.>",
        "max_deliveries": 3,
        "ack_wait": 2.0,
        "backoff_base": 0.05,
        "backoff_max": 0.2,
        "concurrency": 4,
        "fetch_timeout": 0.2,
    }
    values.update(overrides)
    return ConsumerSpec(**values)  # type: ignore[arg-type]


async def stream_messages(bus: Bus, stream: str) -> int:
    info = await bus.js.stream_info(stream)
    return int(info.state.messages)


async def test_streams_are_declared_idempotently(bus: Bus) -> None:
    await bus.ensure_streams()
    names = {info.config.name for info in await bus.js.streams_info()}
    assert {"CHECKS", "RESULTS", "EVENTS", "DEADLETTER"} <= names
    checks = await bus.js.stream_info("CHECKS")
    assert checks.config.retention == RetentionPolicy.WORK_QUEUE


async def test_publish_consume_ack(bus: Bus) -> None:
    received: list[Delivery[Event]] = []

    async def handler(delivery: Delivery[Event]) -> None:
        received.append(delivery)

    for n in range(5):
        await bus.publish(event_subject("monitor.error"), make_event(n), msg_id=f"evt-{n}")

    consumer = Consumer(bus, spec(), Event, handler)
    async with running(consumer):

        async def all_acked() -> bool:
            info = await bus.js.consumer_info("EVENTS", "test-consumer")
            return len(received) == 5 and info.num_ack_pending == 0 and info.num_pending == 0

        await wait_for(all_acked)

    assert sorted(d.message.monitor_id or 0 for d in received) == [0, 1, 2, 3, 4]
    assert all(d.delivered == 1 for d in received)
    assert {d.msg_id for d in received} == {f"evt-{n}" for n in range(5)}


async def test_republished_message_id_is_stored_once(bus: Bus) -> None:
    first = await bus.publish(event_subject("monitor.error"), make_event(1), msg_id="same-id")
    second = await bus.publish(event_subject("monitor.error"), make_event(1), msg_id="same-id")
    assert not first.duplicate
    assert second.duplicate
    assert second.sequence == first.sequence
    assert await stream_messages(bus, "EVENTS") == 1


async def test_message_is_redelivered_after_consumer_dies_without_ack(bus: Bus, nats_url: str) -> None:
    await bus.publish(event_subject("monitor.error"), make_event(7), msg_id="evt-7")
    consumer = Consumer(bus, spec(ack_wait=1.0), Event, handler=lambda d: asyncio.sleep(0))
    await consumer.declare()

    # A consumer process takes the message and dies: its connection goes away with no ack.
    doomed = await nats.connect(nats_url)
    subscription = await doomed.jetstream().pull_subscribe_bind(durable="test-consumer", stream="EVENTS")
    [taken] = await subscription.fetch(1, timeout=2)
    assert taken.metadata.num_delivered == 1
    await doomed.close()

    received: list[Delivery[Event]] = []

    async def handler(delivery: Delivery[Event]) -> None:
        received.append(delivery)

    async with running(Consumer(bus, spec(ack_wait=1.0), Event, handler)):

        async def redelivered() -> bool:
            return len(received) == 1

        await wait_for(redelivered, timeout=10)
    assert received[0].message.monitor_id == 7
    assert received[0].delivered == 2


async def test_failing_message_is_retried_then_deadlettered(bus: Bus) -> None:
    attempts: list[int] = []
    good: list[int] = []

    async def handler(delivery: Delivery[Event]) -> None:
        if delivery.message.monitor_id == 1:
            attempts.append(delivery.delivered)
            raise RuntimeError("receiver down")
        good.append(delivery.message.monitor_id or 0)

    await bus.publish(event_subject("monitor.error"), make_event(1), msg_id="evt-1")
    async with running(Consumer(bus, spec(max_deliveries=3), Event, handler)):

        async def deadlettered() -> bool:
            return await stream_messages(bus, "DEADLETTER") == 1

        await wait_for(deadlettered)
        # The consumer keeps working after dead-lettering.
        await bus.publish(event_subject("monitor.error"), make_event(2), msg_id="evt-2")

        async def second_handled() -> bool:
            return good == [2]

        await wait_for(second_handled)

    assert attempts == [1, 2, 3]
    dead = await bus.js.get_last_msg("DEADLETTER", "dlq.events.monitor.error")
    assert dead.headers is not None
    assert dead.headers[DLQ_DELIVERIES] == "3"
    assert "receiver down" in dead.headers[DLQ_REASON]
    assert Event.model_validate_json(dead.data or b"").event_id == "evt-1"


async def test_malformed_and_rejected_messages_are_deadlettered_at_once(bus: Bus) -> None:
    seen: list[int] = []

    async def handler(delivery: Delivery[Event]) -> None:
        seen.append(delivery.delivered)
        if delivery.message.monitor_id == 3:
            raise Reject("monitor 3 does not exist")

    await bus.publish(event_subject("monitor.error"), b'{"event_id": 5, "kind": "nope"}', msg_id="bad-1")
    await bus.publish(event_subject("monitor.error"), b"not json at all", msg_id="bad-2")
    await bus.publish(event_subject("monitor.error"), make_event(3), msg_id="evt-3")
    async with running(Consumer(bus, spec(), Event, handler)):

        async def all_dead() -> bool:
            return await stream_messages(bus, "DEADLETTER") == 3

        await wait_for(all_dead)

    assert seen == [1]  # the handler never saw the malformed ones, and the rejected one only once
    reasons = []
    for seq in range(1, 4):
        msg = await bus.js.get_msg("DEADLETTER", seq)
        assert msg.headers is not None
        reasons.append(msg.headers[DLQ_REASON])
    assert any("invalid message" in r and "kind" in r for r in reasons)
    assert any("rejected: monitor 3 does not exist" in r for r in reasons)


async def test_poison_message_that_kills_every_consumer_is_deadlettered(bus: Bus, nats_url: str) -> None:
    """A message whose processing crashes the process (no nak, no ack) ends in the dead-letter stream."""
    await bus.publish(event_subject("monitor.error"), make_event(9), msg_id="evt-9")
    consumer_spec = spec(max_deliveries=2, ack_wait=0.5)
    await Consumer(bus, consumer_spec, Event, handler=lambda d: asyncio.sleep(0)).declare()
    for _ in range(2):
        doomed = await nats.connect(nats_url)
        subscription = await doomed.jetstream().pull_subscribe_bind(durable="test-consumer", stream="EVENTS")
        await subscription.fetch(1, timeout=3)
        await doomed.close()

    handled: list[int] = []

    async def handler(delivery: Delivery[Event]) -> None:
        handled.append(delivery.delivered)

    async with running(Consumer(bus, consumer_spec, Event, handler)):

        async def dead() -> bool:
            return await stream_messages(bus, "DEADLETTER") == 1

        await wait_for(dead)
    assert handled == []


async def test_stop_hands_back_unstarted_messages_and_finishes_inflight(bus: Bus) -> None:
    started: list[int] = []
    finished: list[int] = []
    gate = asyncio.Event()

    async def handler(delivery: Delivery[Event]) -> None:
        started.append(delivery.message.monitor_id or 0)
        await gate.wait()
        finished.append(delivery.message.monitor_id or 0)

    for n in range(10):
        await bus.publish(event_subject("monitor.error"), make_event(n), msg_id=f"evt-{n}")
    consumer = Consumer(bus, spec(concurrency=3), Event, handler, shutdown_timeout=5)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))

    async def three_started() -> bool:
        return len(started) == 3

    await wait_for(three_started)
    stop.set()
    gate.set()
    await asyncio.wait_for(task, 10)
    assert sorted(finished) == sorted(started)

    async def settled() -> bool:
        # Acks are asynchronous: the server counts them a moment after the consumer has sent them.
        info = await bus.js.consumer_info("EVENTS", "test-consumer")
        # Everything not finished is still there for the next consumer.
        return info.num_ack_pending == 0 and info.num_pending == 7

    await wait_for(settled)


async def test_consumer_config_bounds_deliveries_server_side(bus: Bus) -> None:
    consumer = Consumer(bus, spec(max_deliveries=4), Event, handler=lambda d: asyncio.sleep(0))
    await consumer.declare()
    info = await bus.js.consumer_info("EVENTS", "test-consumer")
    config: ConsumerConfig = info.config
    assert config.max_deliver == 5
    assert config.ack_policy == AckPolicy.EXPLICIT
