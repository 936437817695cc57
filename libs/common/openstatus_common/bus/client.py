"""Connection, stream declaration and publishing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError, ServerError
from nats.js.kv import KeyValue
from pydantic import BaseModel

from openstatus_common.bus.streams import BUCKETS, STREAMS, StreamSpec

log = structlog.get_logger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
# Tries at creating the streams when the server reports a store error.
STORE_ATTEMPTS = 5


@dataclass(frozen=True)
class PublishResult:
    stream: str
    sequence: int
    duplicate: bool


class Bus:
    """A NATS connection with its JetStream context. Create with ``await Bus.connect(...)``."""

    def __init__(self, nc: Client, js: JetStreamContext, state: dict[str, bool] | None = None) -> None:
        self.nc = nc
        self.js = js
        # Shared with the connection callbacks: a disconnect while we close on purpose is no warning.
        self._state = state if state is not None else {"closing": False}

    @classmethod
    async def connect(cls, url: str, *, name: str, connect_timeout: float = 5.0) -> Bus:
        """Connect, reconnecting forever in the background after the first success."""

        state = {"closing": False}

        async def on_disconnect() -> None:
            if not state["closing"]:
                log.warning("nats.disconnected", client=name)

        async def on_reconnect() -> None:
            log.info("nats.reconnected", client=name)

        async def on_error(error: Exception) -> None:
            log.warning("nats.error", client=name, error=str(error))

        nc = await nats.connect(
            servers=[server.strip() for server in url.split(",")],
            name=name,
            connect_timeout=connect_timeout,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            allow_reconnect=True,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
            error_cb=on_error,
        )
        return cls(nc, nc.jetstream(), state)

    async def ensure_streams(self, specs: tuple[StreamSpec, ...] = STREAMS) -> None:
        """Create the streams and key-value buckets, or bring an existing stream's configuration up to date.

        The server can briefly fail to create a stream's store (a stream of that name being removed at the
        same moment): such errors are retried a few times before they count.
        """
        for attempt in range(STORE_ATTEMPTS):
            try:
                await self._ensure_streams(specs)
                return
            except ServerError as error:
                if attempt == STORE_ATTEMPTS - 1:
                    raise
                log.warning("bus.stream_setup_retry", attempt=attempt + 1, error=str(error))
                await asyncio.sleep(0.1 * 2**attempt)

    async def _ensure_streams(self, specs: tuple[StreamSpec, ...]) -> None:
        for bucket in BUCKETS:
            await self.key_value(bucket)
        for spec in specs:
            config = spec.config()
            try:
                await self.js.stream_info(spec.name.value)
            except NotFoundError:
                try:
                    await self.js.add_stream(config)
                    continue
                except BadRequestError:
                    # Another service created it between our two calls.
                    pass
            await self.js.update_stream(config)

    async def key_value(self, bucket: str) -> KeyValue:
        """The key-value bucket (one value per key, no history), created on first use."""
        try:
            return await self.js.key_value(bucket)
        except BucketNotFoundError:
            return await self.js.create_key_value(
                KeyValueConfig(bucket=bucket, history=1, storage=StorageType.FILE)
            )

    async def publish(
        self,
        subject: str,
        message: BaseModel | bytes,
        *,
        msg_id: str,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
    ) -> PublishResult:
        """Publish to JetStream; a repeated ``msg_id`` within the stream's window is stored once."""
        payload = message if isinstance(message, bytes) else message.model_dump_json().encode()
        all_headers = {**(headers or {}), MSG_ID_HEADER: msg_id}
        ack: Any = await self.js.publish(subject, payload, headers=all_headers, timeout=timeout)
        return PublishResult(stream=ack.stream, sequence=ack.seq, duplicate=bool(ack.duplicate))

    @property
    def connected(self) -> bool:
        return bool(self.nc.is_connected)

    async def ping(self, timeout: float = 2.0) -> None:
        """Raise unless the server and JetStream answer."""
        if not self.nc.is_connected:
            raise ConnectionError("not connected to NATS")
        await self.nc.flush(timeout=max(1, round(timeout)))
        await self.js.account_info()

    async def close(self) -> None:
        """Drain: let subscriptions finish what they hold, flush pending publishes, then close."""
        if self.nc.is_closed:
            return
        self._state["closing"] = True
        try:
            await self.nc.drain()
        except Exception as error:  # a dead connection cannot drain; close it anyway
            log.warning("nats.drain_failed", error=str(error))
            await self.nc.close()
