"""ntfy, Telegram, SMS and WhatsApp through apprise, which knows these services' APIs.

apprise is blocking (requests), so each send runs in a worker thread. Its log lines can quote URLs and
tokens, so the ``apprise`` logger does not propagate to ours: a handler keeps the warnings of the thread
doing the send, which become the delivery's error (scrubbed of the channel's secrets by the caller).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import apprise

from notifier.content import Message, Notice, render
from notifier.senders.base import SendContext, SendError
from openstatus_common.notify import NtfyConfig, SmsConfig, TelegramConfig, WhatsappConfig

# apprise imports the standard library's deprecated imghdr when it loads its email plugin; not ours to fix.
warnings.filterwarnings("ignore", message="'imghdr' is deprecated", category=DeprecationWarning)

NTFY_PRIORITY = {"error": "high", "degraded": "default", "recovered": "default", "test": "low"}
NTFY_TAGS = {
    "error": "rotating_light",
    "degraded": "warning",
    "recovered": "white_check_mark",
    "test": "test_tube",
}


class _ThreadLog(logging.Handler):
    """Collects apprise's warnings per sending thread, so concurrent sends never see each other's errors."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._lock = threading.Lock()
        self._lines: dict[int, list[str]] = {}

    def start(self) -> None:
        with self._lock:
            self._lines[threading.get_ident()] = []

    def stop(self) -> list[str]:
        with self._lock:
            return self._lines.pop(threading.get_ident(), [])

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            lines = self._lines.get(record.thread or 0)
            if lines is not None:
                lines.append(record.getMessage())


_LOG = _ThreadLog()
_apprise_logger = logging.getLogger("apprise")
_apprise_logger.addHandler(_LOG)
_apprise_logger.propagate = False
_apprise_logger.setLevel(logging.WARNING)
_ASSET = apprise.AppriseAsset(
    app_id="openstatus", app_desc="openstatus alerts", app_url="https://www.openstatus.dev"
)


def with_params(url: str, **params: str) -> str:
    """``url`` with query parameters added (kept when already there)."""
    parts = urlsplit(url)
    extra = urlencode({key: value for key, value in params.items() if f"{key}=" not in parts.query})
    query = "&".join(part for part in (parts.query, extra) if part)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def with_target(url: str, target: str) -> str:
    """A gateway URL (``twilio://SID:Token@+1555...``) with the recipient appended as a path segment."""
    parts = urlsplit(url)
    path = f"{parts.path.rstrip('/')}/{quote(target, safe='+@')}"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _common(ctx: SendContext) -> dict[str, str]:
    seconds = f"{ctx.timeout:g}"
    return {"format": "text", "image": "no", "cto": seconds, "rto": seconds}


def ntfy_url(config: NtfyConfig, message: Message, ctx: SendContext) -> str:
    server = urlsplit(config.serverUrl)
    scheme = "ntfys" if server.scheme == "https" else "ntfy"
    params = {
        **_common(ctx),
        "mode": "private",  # "cloud" mode (ntfy.sh) would drop the token
        "priority": NTFY_PRIORITY[message.tone],
        "tags": NTFY_TAGS[message.tone],
    }
    if message.link:
        params["click"] = message.link
    if config.token:
        params |= {"auth": "token", "token": config.token}
    return with_params(f"{scheme}://{server.netloc}/{config.topic}", **params)


def telegram_url(config: TelegramConfig, ctx: SendContext) -> str:
    token = ctx.settings.notify_telegram_bot_token
    if not token:
        raise SendError(
            "Telegram is not configured on this deployment (OPENSTATUS_NOTIFY_TELEGRAM_BOT_TOKEN)",
            permanent=True,
        )
    return with_params(f"tgram://{token}/{quote(config.chatId, safe='@-')}", **_common(ctx))


def gateway_url(base: str, phone: str, ctx: SendContext, *, setting: str, what: str) -> str:
    if not base:
        raise SendError(f"{what} is not configured on this deployment ({setting})", permanent=True)
    return with_params(with_target(base, phone), **_common(ctx))


def _notify(url: str, title: str, body: str) -> str | None:
    """Send with apprise (blocking); None on success, else why."""
    _LOG.start()
    try:
        notifier = apprise.Apprise(asset=_ASSET)
        if not notifier.add(url):
            return "the provider address is not valid"
        if notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT):
            return None
        lines = _LOG.stop()
        return "; ".join(lines[-3:]) or "the provider did not accept the message"
    finally:
        _LOG.stop()


async def send_apprise(ctx: SendContext, url: str, message: Message) -> None:
    # apprise bounds connect and read by cto/rto; this bounds the whole thread's work for us.
    bound = 2 * ctx.timeout + 1
    try:
        error = await asyncio.wait_for(asyncio.to_thread(_notify, url, message.title, message.text()), bound)
    except TimeoutError:
        raise SendError(f"the provider did not answer within {bound:g}s") from None
    if error is not None:
        raise SendError(error, permanent=error == "the provider address is not valid")


async def send_ntfy(ctx: SendContext, config: NtfyConfig, notice: Notice) -> None:
    message = render(notice)
    await send_apprise(ctx, ntfy_url(config, message, ctx), message)


async def send_telegram(ctx: SendContext, config: TelegramConfig, notice: Notice) -> None:
    await send_apprise(ctx, telegram_url(config, ctx), render(notice))


async def send_sms(ctx: SendContext, config: SmsConfig, notice: Notice) -> None:
    url = gateway_url(
        ctx.settings.notify_sms_url, config.phoneNumber, ctx, setting="OPENSTATUS_NOTIFY_SMS_URL", what="SMS"
    )
    await send_apprise(ctx, url, render(notice))


async def send_whatsapp(ctx: SendContext, config: WhatsappConfig, notice: Notice) -> None:
    url = gateway_url(
        ctx.settings.notify_whatsapp_url,
        config.phoneNumber,
        ctx,
        setting="OPENSTATUS_NOTIFY_WHATSAPP_URL",
        what="WhatsApp",
    )
    await send_apprise(ctx, url, render(notice))
