"""Answers the API's "send a test message" requests (core NATS request/reply on ``notifier.test``).

The test goes through the same senders as a real alert, with a sample alert and a key of its own; nothing is
stored. Each request is handled in its own task so one slow receiver does not hold the others.
"""

from __future__ import annotations

import asyncio
import uuid

import structlog
from nats.aio.msg import Msg
from pydantic import ValidationError

from notifier.claim_loop import send_bound
from notifier.content import Notice, sample_alert
from notifier.senders import SendContext, SendError, send
from openstatus_common.bus import Bus
from openstatus_common.db.base import utcnow
from openstatus_common.notify import (
    SEND_TEST_QUEUE,
    SEND_TEST_SUBJECT,
    SendTestReply,
    SendTestRequest,
    scrub,
    secret_values,
)

log = structlog.get_logger(__name__)


async def run_test(senders: SendContext, request: SendTestRequest) -> SendTestReply:
    notice = Notice(alert=sample_alert(utcnow()), key=f"test-{uuid.uuid4().hex}", test=True)
    secrets = secret_values(request.provider, request.config)
    try:
        await asyncio.wait_for(
            send(senders, request.provider, request.config, notice), send_bound(senders.settings)
        )
    except SendError as error:
        return SendTestReply(success=False, error=scrub(error.message, secrets))
    except TimeoutError:
        return SendTestReply(success=False, error=f"no answer within {send_bound(senders.settings):g}s")
    except Exception as error:
        return SendTestReply(success=False, error=scrub(f"{type(error).__name__}: {error}", secrets))
    return SendTestReply(success=True)


async def serve_tests(bus: Bus, senders: SendContext, stop: asyncio.Event) -> None:
    tasks: set[asyncio.Task[None]] = set()

    async def answer(msg: Msg) -> None:
        try:
            request = SendTestRequest.model_validate_json(msg.data)
        except ValidationError:
            reply = SendTestReply(success=False, error="malformed test request")
        else:
            reply = await run_test(senders, request)
            log.info(
                "sendtest.done",
                workspace_id=request.workspace_id,
                provider=request.provider.value,
                success=reply.success,
            )
        await msg.respond(reply.model_dump_json().encode())

    async def on_request(msg: Msg) -> None:
        task = asyncio.create_task(answer(msg))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    subscription = await bus.nc.subscribe(SEND_TEST_SUBJECT, queue=SEND_TEST_QUEUE, cb=on_request)
    try:
        await stop.wait()
    finally:
        await subscription.unsubscribe()
        if tasks:
            await asyncio.wait(set(tasks), timeout=send_bound(senders.settings))
