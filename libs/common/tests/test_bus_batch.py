"""The batch consumer against a real nats-server with JetStream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import nats
import pytest

from openstatus_common.bus import BatchConsumer, Bus, ConsumerSpec, Delivery, Reject, StreamName
from openstatus_common.bus.consumer import DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_REASON
from openstatus_common.bus.streams import event_subject
from openstatus_common.messages import Event, EventKind
from openstatus_common.testing.processes import wait_for

SUBJECT = event_subject("monitor.error")
DURABLE = "test-batch"


def make_event(n: int) -> Event:
    return Event(
        event_id=f"evt-{n}",
        kind=EventKind.MONITOR_ERROR,
        occurred_at=datetime.now(UTC),
        workspace_id=1,
        monitor_id=n,
    )


def spec(**overrides: object) -> ConsumerSpec:
    values: dict[str, object] = {
        "stream": StreamName.EVENTS.value,
        "durable": DURABLE,
        "filter_subject": "events.>",
        "max_deliveries": 3,
        "ack_wait": 2.0,
        "backoff_base": 0.05,
        "backoff_max": 0.2,
        "fetch_timeout": 0.2,
    }
    values.update(overrides)
    return ConsumerSpec(**values)  # type: ignore[arg-type]


Handler = Callable[[list[Delivery[Event]]], Awaitable[None]]


def consumer(bus: Bus, handler: Handler, **options: object) -> BatchConsumer[Event]:
    consumer_spec = spec(**{k: v for k, v in options.items() if k in ConsumerSpec.__dataclass_fields__})
    rest = {k: v for k, v in options.items() if k not in ConsumerSpec.__dataclass_fields__}
    return BatchConsumer(bus, consumer_spec, Event, handler, **rest)  # type: ignore[arg-type]


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    bus = await Bus.connect(nats_url, name="test")
    await bus.ensure_streams()
    yield bus
    await bus.close()


@contextlib.asynccontextmanager
async def running(batch_consumer: BatchConsumer[Event]) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    await batch_consumer.declare()
    task = asyncio.create_task(batch_consumer.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def publish(bus: Bus, *numbers: int) -> None:
    for n in numbers:
        await bus.publish(SUBJECT, make_event(n), msg_id=f"evt-{n}")


async def deadlettered(bus: Bus) -> int:
    return int((await bus.js.stream_info("DEADLETTER")).state.messages)


async def settled(bus: Bus) -> bool:
    info = await bus.js.consumer_info("EVENTS", DURABLE)
    return info.num_ack_pending == 0 and info.num_pending == 0


async def test_batches_are_handled_in_one_call_each_and_acked(bus: Bus) -> None:
    batches: list[list[int]] = []

    async def handler(batch: list[Delivery[Event]]) -> None:
        batches.append([d.message.monitor_id or 0 for d in batch])

    await publish(bus, *range(30))
    async with running(consumer(bus, handler, batch_size=10, max_wait=0.5)):

        async def all_handled() -> bool:
            return sum(map(len, batches)) == 30 and await settled(bus)

        await wait_for(all_handled)

    assert sorted(n for batch in batches for n in batch) == list(range(30))
    assert max(map(len, batches)) == 10
    assert all(len(batch) <= 10 for batch in batches)
    assert len(batches) <= 5  # batched, not one call per message


async def test_a_batch_waits_at_most_max_wait_to_fill(bus: Bus) -> None:
    batches: list[list[int]] = []
    handled_at: list[float] = []
    loop = asyncio.get_running_loop()

    async def handler(batch: list[Delivery[Event]]) -> None:
        batches.append([d.message.monitor_id or 0 for d in batch])
        handled_at.append(loop.time())

    async with running(consumer(bus, handler, batch_size=100, max_wait=1.5)):
        first_published = loop.time()
        await publish(bus, 1)

        async def first_fetched() -> bool:
            info = await bus.js.consumer_info("EVENTS", DURABLE)
            return info.num_ack_pending == 1

        await wait_for(first_fetched)
        # The consumer holds the first message and waits for more: these join its batch.
        await publish(bus, 2, 3, 4)

        async def handled() -> bool:
            return bool(batches)

        await wait_for(handled)
        # Nothing else arrives, so the batch goes as it is once max_wait has passed.
        await publish(bus, 5)

        async def second_handled() -> bool:
            return len(batches) == 2

        await wait_for(second_handled)

    assert batches == [[1, 2, 3, 4], [5]]
    waited = handled_at[0] - first_published
    assert 1.4 < waited < 5.0


async def test_malformed_messages_are_deadlettered_and_the_rest_handled(bus: Bus) -> None:
    seen: list[tuple[int, int]] = []

    async def handler(batch: list[Delivery[Event]]) -> None:
        seen.extend((d.message.monitor_id or 0, d.delivered) for d in batch)

    await publish(bus, 1)
    await bus.publish(SUBJECT, b'{"event_id": 5, "kind": "nope"}', msg_id="bad-1")
    await bus.publish(SUBJECT, b"not json at all", msg_id="bad-2")
    await publish(bus, 2)
    async with running(consumer(bus, handler, batch_size=10)):

        async def done() -> bool:
            return await deadlettered(bus) == 2 and len(seen) == 2 and await settled(bus)

        await wait_for(done)

    assert sorted(seen) == [(1, 1), (2, 1)]
    reasons = []
    for sequence in (1, 2):
        dead = await bus.js.get_msg("DEADLETTER", sequence)
        assert dead.headers is not None
        assert dead.headers[DLQ_CONSUMER] == DURABLE
        reasons.append(dead.headers[DLQ_REASON])
    assert all(reason.startswith("invalid message") for reason in reasons)
    assert any("kind" in reason for reason in reasons)


async def test_a_poison_message_does_not_take_the_good_ones_down(bus: Bus) -> None:
    recorded: list[int] = []
    poison_attempts: list[int] = []
    batch_sizes: list[int] = []

    async def handler(batch: list[Delivery[Event]]) -> None:
        # All or nothing, like a transaction.
        batch_sizes.append(len(batch))
        for delivery in batch:
            if delivery.message.monitor_id == 13:
                if len(batch) == 1:
                    poison_attempts.append(delivery.delivered)
                raise RuntimeError("cannot store 13")
        recorded.extend(d.message.monitor_id or 0 for d in batch)

    await publish(bus, 1, 2, 13, 4, 5)
    async with running(consumer(bus, handler, batch_size=10, max_deliveries=3)):

        async def poison_dead() -> bool:
            return await deadlettered(bus) == 1

        await wait_for(poison_dead)
        # The consumer keeps going after dead-lettering.
        await publish(bus, 6, 7)

        async def later_recorded() -> bool:
            return {6, 7} <= set(recorded) and await settled(bus)

        await wait_for(later_recorded)

    assert sorted(recorded) == [1, 2, 4, 5, 6, 7]  # each good one exactly once
    assert batch_sizes[0] == 5  # tried as a batch first
    assert poison_attempts == [1, 2, 3]
    dead = await bus.js.get_last_msg("DEADLETTER", f"dlq.{SUBJECT}")
    assert dead.headers is not None
    assert dead.headers[DLQ_DELIVERIES] == "3"
    assert "cannot store 13" in dead.headers[DLQ_REASON]
    assert Event.model_validate_json(dead.data or b"").event_id == "evt-13"


async def test_a_rejected_message_is_deadlettered_at_once(bus: Bus) -> None:
    recorded: list[int] = []

    async def handler(batch: list[Delivery[Event]]) -> None:
        if any(d.message.monitor_id == 3 for d in batch):
            raise Reject("monitor 3 does not exist")
        recorded.extend(d.message.monitor_id or 0 for d in batch)

    await publish(bus, 1, 2, 3)
    async with running(consumer(bus, handler, batch_size=10)):

        async def done() -> bool:
            return await deadlettered(bus) == 1 and await settled(bus)

        await wait_for(done)

    assert sorted(recorded) == [1, 2]
    dead = await bus.js.get_last_msg("DEADLETTER", f"dlq.{SUBJECT}")
    assert dead.headers is not None
    assert dead.headers[DLQ_REASON] == "rejected: monitor 3 does not exist"
    assert dead.headers[DLQ_DELIVERIES] == "1"


async def test_a_message_that_keeps_killing_consumers_is_deadlettered(bus: Bus, nats_url: str) -> None:
    await publish(bus, 9)
    consumer_options: dict[str, object] = {"max_deliveries": 2, "ack_wait": 0.5}
    await consumer(bus, lambda batch: asyncio.sleep(0), **consumer_options).declare()
    for _ in range(2):
        # A consumer process takes the message and dies without answering.
        doomed = await nats.connect(nats_url)
        subscription = await doomed.jetstream().pull_subscribe_bind(durable=DURABLE, stream="EVENTS")
        await subscription.fetch(1, timeout=3)
        await doomed.close()

    handled: list[int] = []

    async def handler(batch: list[Delivery[Event]]) -> None:
        handled.extend(d.delivered for d in batch)

    async with running(consumer(bus, handler, **consumer_options)):

        async def dead() -> bool:
            return await deadlettered(bus) == 1

        await wait_for(dead)
    assert handled == []


async def test_a_batch_slower_than_ack_wait_is_not_redelivered(bus: Bus) -> None:
    deliveries: list[tuple[int, int]] = []

    async def handler(batch: list[Delivery[Event]]) -> None:
        await asyncio.sleep(1.6)  # longer than ack_wait: the heartbeat keeps the messages ours
        deliveries.extend((d.message.monitor_id or 0, d.delivered) for d in batch)

    await publish(bus, 1, 2, 3)
    async with running(consumer(bus, handler, batch_size=10, ack_wait=1.0)):

        async def done() -> bool:
            return len(deliveries) == 3 and await settled(bus)

        await wait_for(done)

    assert sorted(deliveries) == [(1, 1), (2, 1), (3, 1)]


async def test_stop_finishes_the_batch_in_hand_and_leaves_the_rest(bus: Bus) -> None:
    started: list[int] = []
    finished: list[int] = []
    gate = asyncio.Event()

    async def handler(batch: list[Delivery[Event]]) -> None:
        started.extend(d.message.monitor_id or 0 for d in batch)
        await gate.wait()
        finished.extend(d.message.monitor_id or 0 for d in batch)

    await publish(bus, *range(10))
    batch_consumer = consumer(bus, handler, batch_size=3, max_wait=0, shutdown_timeout=5)
    stop = asyncio.Event()
    task = asyncio.create_task(batch_consumer.run(stop))

    async def batch_started() -> bool:
        return len(started) == 3

    await wait_for(batch_started)
    stop.set()
    gate.set()
    await asyncio.wait_for(task, 10)

    assert sorted(finished) == sorted(started)

    async def handed_back() -> bool:
        # Acks are asynchronous: the server counts them a moment after the consumer has sent them.
        info = await bus.js.consumer_info("EVENTS", DURABLE)
        # Everything not started is still there for the next consumer.
        return info.num_ack_pending == 0 and info.num_pending == 7

    await wait_for(handed_back)


@pytest.mark.parametrize("how", ["stop", "cancel"])
async def test_a_batch_that_overruns_the_shutdown_bound_is_handed_back(bus: Bus, how: str) -> None:
    """Stopped, it overruns ``shutdown_timeout``; or the consumer task itself is cancelled."""

    handling = asyncio.Event()

    async def stuck(batch: list[Delivery[Event]]) -> None:
        handling.set()
        await asyncio.Event().wait()

    await publish(bus, *range(5))
    stuck_consumer = consumer(bus, stuck, batch_size=10, max_wait=0.2, shutdown_timeout=0.3, ack_wait=10.0)
    await stuck_consumer.declare()  # so the test can inspect the consumer at once
    stop = asyncio.Event()
    task = asyncio.create_task(stuck_consumer.run(stop))

    async def all_in_hand() -> bool:
        info = await bus.js.consumer_info("EVENTS", DURABLE)
        return info.num_ack_pending == 5

    async def batch_in_handler() -> bool:
        # Delivered is not enough: a fetch cancelled before it returns leaves them to ack_wait.
        return handling.is_set()

    await wait_for(all_in_hand)
    await wait_for(batch_in_handler)
    if how == "stop":
        stop.set()
        await asyncio.wait_for(task, 5)
    else:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)

    # Nak'ed, not left to time out: the next consumer gets them at once, well within ack_wait.
    redelivered: list[tuple[int, int]] = []

    async def handler(batch: list[Delivery[Event]]) -> None:
        redelivered.extend((d.message.monitor_id or 0, d.delivered) for d in batch)

    async with running(consumer(bus, handler, batch_size=10, ack_wait=10.0)):

        async def all_back() -> bool:
            return len(redelivered) == 5

        await wait_for(all_back, timeout=5)
    assert sorted(redelivered) == [(n, 2) for n in range(5)]


def test_batch_options_are_checked() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        BatchConsumer(None, spec(), Event, handler=lambda batch: asyncio.sleep(0), batch_size=0)  # type: ignore[arg-type]
