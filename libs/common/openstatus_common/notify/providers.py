"""Notification providers and their configuration: one validated model per provider.

The API validates a channel's ``data`` with these models before storing it, and the notifier reads the stored
config back through them, so both agree on every field. Field names are the SDK's camelCase
(``webhookUrl``, ``integrationKey`` ...); unknown fields are refused so a typo cannot pass silently.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from openstatus_common.vocab._lookup import Vocabulary


class Provider(StrEnum):
    DISCORD = "discord"
    EMAIL = "email"
    GOOGLE_CHAT = "google-chat"
    GRAFANA_ONCALL = "grafana-oncall"
    NTFY = "ntfy"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    SLACK = "slack"
    SMS = "sms"
    TELEGRAM = "telegram"
    WEBHOOK = "webhook"
    WHATSAPP = "whatsapp"
    MS_TEAMS = "ms-teams"


# Every spelling a surface uses: ``google-chat`` (ours), ``google_chat`` (Terraform), ``googleChat`` (the SDK's
# oneof case), ``GOOGLE_CHAT`` / ``NOTIFICATION_PROVIDER_GOOGLE_CHAT`` / ``3`` (the proto enum).
PROVIDER: Vocabulary[Provider] = Vocabulary(
    Provider,
    wire_prefix="NOTIFICATION_PROVIDER_",
    numbers={member: number for number, member in enumerate(Provider, start=1)},
    aliases={
        "googlechat": Provider.GOOGLE_CHAT,
        "grafanaoncall": Provider.GRAFANA_ONCALL,
        "grafana_oncall": Provider.GRAFANA_ONCALL,
        "msteams": Provider.MS_TEAMS,
        "teams": Provider.MS_TEAMS,
        "ms_teams": Provider.MS_TEAMS,
    },
    label="provider",
)


def parse_provider(value: object) -> Provider:
    """Any spelling of a provider; ValueError listing the choices otherwise."""
    if isinstance(value, str):
        value = value.strip().replace("-", "_")
    return PROVIDER.parse(value)


class ConfigError(ValueError):
    """A channel config that does not validate. ``field`` is the path inside ``data`` (``headers[0].key``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


# --- field types ------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_NTFY_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TELEGRAM_CHAT = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_KEY = re.compile(r"^[A-Za-z0-9_+=.-]+$")
MASK = "****"


def http_url(url: str) -> str:
    """An absolute http(s) URL with a host and no whitespace; ValueError saying what is wrong."""
    if any(ch.isspace() for ch in url) or "\x00" in url:
        raise ValueError("must not contain whitespace")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    try:
        _ = parts.port
    except ValueError as error:
        raise ValueError(f"has an invalid port: {error}") from None
    return url


def _not_masked(value: str) -> str:
    # A value copied from a GET response is the masked form, not the secret: storing it would break the
    # channel silently. (PATCH puts the stored secret back before validation when it sees its own mask.)
    if MASK in value:
        raise ValueError("is a masked value; send the full secret, or leave the field out to keep it")
    return value


def _phone(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"[\s().-]", "", value)
    return value


def _number_as_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _region(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower().removeprefix("opsgenie_region_")
    return {"1": "us", "2": "eu"}.get(text, text)


def _matches(pattern: re.Pattern[str], message: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


HttpUrl = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(http_url)]
SecretUrl = Annotated[HttpUrl, AfterValidator(_not_masked)]
SecretKey = Annotated[
    str,
    Field(min_length=8, max_length=256),
    AfterValidator(_not_masked),
    _matches(_KEY, "must contain only letters, digits and _ + = . -"),
]
Phone = Annotated[
    str,
    BeforeValidator(_phone),
    _matches(_E164, "must be a phone number in international format, such as +14155552671"),
]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _WebhookUrlConfig(_Config):
    webhookUrl: SecretUrl


class SlackConfig(_WebhookUrlConfig):
    """A Slack incoming webhook (or a Slack-compatible one: Mattermost, Rocket.Chat)."""


class DiscordConfig(_WebhookUrlConfig):
    """A Discord channel webhook."""


class GoogleChatConfig(_WebhookUrlConfig):
    """A Google Chat space webhook (the full URL with its key and token)."""


class GrafanaOncallConfig(_WebhookUrlConfig):
    """A Grafana OnCall (IRM) "formatted webhook" integration URL."""


class MsTeamsConfig(_WebhookUrlConfig):
    """A Teams channel's Workflows (Power Automate) webhook URL."""


class EmailConfig(_Config):
    email: Annotated[
        str, Field(max_length=320), _matches(_EMAIL, "must be an email address such as alerts@example.com")
    ]


class NtfyConfig(_Config):
    topic: Annotated[str, _matches(_NTFY_TOPIC, "must be 1 to 64 letters, digits, - or _")]
    serverUrl: Annotated[HttpUrl, AfterValidator(lambda url: _origin_only(url))] = "https://ntfy.sh"
    token: Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_not_masked)] | None = None


def _origin_only(url: str) -> str:
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("must be the server's address only, such as https://ntfy.example.com")
    return f"{parts.scheme}://{parts.netloc}"


class PagerDutyConfig(_Config):
    integrationKey: SecretKey


class OpsgenieConfig(_Config):
    apiKey: SecretKey
    region: Annotated[Literal["us", "eu"], BeforeValidator(_region)] = "us"


class SmsConfig(_Config):
    phoneNumber: Phone


class WhatsappConfig(_Config):
    phoneNumber: Phone


class TelegramConfig(_Config):
    chatId: Annotated[
        str,
        BeforeValidator(_number_as_text),
        _matches(_TELEGRAM_CHAT, "must be a numeric chat id (such as -1001234567890) or @channelname"),
    ]


def _header_value(value: str) -> str:
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError("must not contain CR, LF or NUL")
    return value


class WebhookHeader(_Config):
    key: Annotated[
        str, Field(min_length=1, max_length=256), _matches(_HEADER_NAME, "must be a valid HTTP header name")
    ]
    value: Annotated[str, Field(max_length=8192), AfterValidator(_header_value)] = ""


class WebhookConfig(_Config):
    endpoint: SecretUrl
    headers: Annotated[list[WebhookHeader], Field(max_length=20)] = []


CONFIG_MODELS: dict[Provider, type[_Config]] = {
    Provider.SLACK: SlackConfig,
    Provider.DISCORD: DiscordConfig,
    Provider.EMAIL: EmailConfig,
    Provider.GOOGLE_CHAT: GoogleChatConfig,
    Provider.GRAFANA_ONCALL: GrafanaOncallConfig,
    Provider.NTFY: NtfyConfig,
    Provider.PAGERDUTY: PagerDutyConfig,
    Provider.OPSGENIE: OpsgenieConfig,
    Provider.SMS: SmsConfig,
    Provider.TELEGRAM: TelegramConfig,
    Provider.WEBHOOK: WebhookConfig,
    Provider.WHATSAPP: WhatsappConfig,
    Provider.MS_TEAMS: MsTeamsConfig,
}


def field_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    """``("headers", 0, "key")`` -> ``headers[0].key``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse_config(provider: Provider, data: object) -> BaseModel:
    """The provider's typed config; ConfigError naming the first bad field."""
    if not isinstance(data, dict):
        raise ConfigError("", "must be an object with the provider's fields")
    try:
        return CONFIG_MODELS[provider].model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(CONFIG_MODELS[provider].model_fields)
            message = f"is not a {provider.value} setting (expected: {allowed})"
        elif first["type"] == "missing":
            message = f"is required for {provider.value}"
        raise ConfigError(field_path(first["loc"]), message) from None


def validate_config(provider: Provider, data: object) -> dict[str, Any]:
    """The normalized config to store (defaults filled in, absent optionals left out)."""
    return parse_config(provider, data).model_dump(mode="json", exclude_none=True)
