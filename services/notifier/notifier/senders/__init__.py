"""One sender per provider, behind one signature: ``send(ctx, config, notice)``.

| provider | how | why |
|---|---|---|
| webhook, slack, discord, google-chat, grafana-oncall, ms-teams | httpx POST to the URL in the channel | the user gives the full URL; apprise rebuilds these on the vendors' fixed hosts (or https only) |
| pagerduty, opsgenie | httpx POST to the vendor API | recovery must resolve / close the open alert by a stable key, statelessly |
| email | smtplib (thread) via ``OPENSTATUS_SMTP_*`` | the operator's SMTP settings are the only source of truth |
| ntfy, telegram, sms, whatsapp | apprise (thread) | apprise speaks these APIs and SMS / WhatsApp gateways |
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from notifier.content import Notice
from notifier.senders import (
    apprise_providers,
    discord,
    email,
    google_chat,
    grafana_oncall,
    ms_teams,
    opsgenie,
    pagerduty,
    slack,
    webhook,
)
from notifier.senders.base import Endpoints, SendContext, SendError, open_context
from openstatus_common.notify import ConfigError, Provider, parse_config

Sender = Callable[[SendContext, Any, Notice], Awaitable[None]]

SENDERS: dict[Provider, Sender] = {
    Provider.WEBHOOK: webhook.send,
    Provider.SLACK: slack.send,
    Provider.DISCORD: discord.send,
    Provider.GOOGLE_CHAT: google_chat.send,
    Provider.GRAFANA_ONCALL: grafana_oncall.send,
    Provider.MS_TEAMS: ms_teams.send,
    Provider.PAGERDUTY: pagerduty.send,
    Provider.OPSGENIE: opsgenie.send,
    Provider.EMAIL: email.send,
    Provider.NTFY: apprise_providers.send_ntfy,
    Provider.TELEGRAM: apprise_providers.send_telegram,
    Provider.SMS: apprise_providers.send_sms,
    Provider.WHATSAPP: apprise_providers.send_whatsapp,
}


async def send(ctx: SendContext, provider: Provider, config: dict[str, Any], notice: Notice) -> None:
    """Send ``notice`` to one channel; SendError says why not and whether retrying can help."""
    try:
        typed = parse_config(provider, config)
    except ConfigError as error:
        raise SendError(f"the channel's configuration is invalid: {error}", permanent=True) from None
    await SENDERS[provider](ctx, typed, notice)


__all__ = ["SENDERS", "Endpoints", "SendContext", "SendError", "open_context", "send"]
