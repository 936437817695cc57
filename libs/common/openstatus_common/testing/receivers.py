"""Local fake receivers that record what they got: an HTTP server (webhook, Slack, Discord, ntfy, vendor APIs)
and an SMTP server (aiosmtpd).

The HTTP receiver answers 200 unless told otherwise per path: fail the next N requests with a status, or hang
the next N requests (before or after "processing" them) until released. ``processed`` tells what a user would
have seen: a request answered 2xx, or hung after it was processed.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from openstatus_common.local.natsd import free_port

HANG_LIMIT_S = 60.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    processed: bool = False
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class _Plan:
    kind: str  # "fail" or "hang"
    status: int = 500
    after_processing: bool = False


@dataclass
class HttpReceiver:
    requests: list[Received] = field(default_factory=list)
    hanging: threading.Event = field(default_factory=threading.Event)
    _plans: dict[str, deque[_Plan]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                item = Received(
                    path=self.path,
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=self.rfile.read(length),
                )
                with receiver._lock:
                    receiver.requests.append(item)
                    plans = receiver._plans[self.path.split("?")[0]]
                    plan = plans.popleft() if plans else None
                if plan is not None and plan.kind == "hang":
                    item.processed = plan.after_processing
                    receiver.hanging.set()
                    receiver._release.wait(HANG_LIMIT_S)
                    return  # the connection closes without an answer
                status = plan.status if plan is not None else 200
                item.status = status
                item.processed = 200 <= status < 300
                body = (
                    json.dumps({"error": f"failing on purpose at {self.path}"}).encode()
                    if status >= 300
                    else b'{"ok":true}'
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail(self, path: str, times: int = 1, status: int = 500) -> None:
        with self._lock:
            self._plans[path].extend(_Plan("fail", status) for _ in range(times))

    def hang(self, path: str, *, after_processing: bool = False) -> None:
        with self._lock:
            self._plans[path].append(_Plan("hang", after_processing=after_processing))

    def release(self) -> None:
        self._release.set()

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [item for item in self.requests if item.path.split("?")[0] == path]

    def delivered(self, path: str) -> list[Received]:
        """What a user of this receiver saw: requests processed, once per idempotency key when given."""
        seen: set[str] = set()
        shown = []
        for item in self.at(path):
            if not item.processed or (item.key is not None and item.key in seen):
                continue
            if item.key is not None:
                seen.add(item.key)
            shown.append(item)
        return shown

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"


class SmtpReceiver:
    def __init__(self) -> None:
        self.inbox = _Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[tuple[list[str], Message]]:
        return self.inbox.messages

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
