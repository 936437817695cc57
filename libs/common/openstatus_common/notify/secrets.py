"""Which config fields are secret, per provider, and the one way they are masked, merged and scrubbed.

The API never returns a secret in full: URLs keep their scheme and host (so users can tell which Slack or
which server) plus the last 4 characters; keys and tokens keep their last 4. A PATCH that omits a secret, or
sends back its masked form, keeps the stored value. Error messages that may quote a secret (an HTTP
library's exception, a provider's answer) are scrubbed before they are stored, logged or returned.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from openstatus_common.notify.providers import MASK, Provider


class Secret(StrEnum):
    URL = "url"
    TOKEN = "token"  # noqa: S105 (a kind of secret, not one)


# The one table of secrets. Every header value of a custom webhook is secret too (Authorization, API keys):
# see HEADER_VALUES_SECRET.
SECRET_FIELDS: dict[Provider, dict[str, Secret]] = {
    Provider.SLACK: {"webhookUrl": Secret.URL},
    Provider.DISCORD: {"webhookUrl": Secret.URL},
    Provider.GOOGLE_CHAT: {"webhookUrl": Secret.URL},
    Provider.GRAFANA_ONCALL: {"webhookUrl": Secret.URL},
    Provider.MS_TEAMS: {"webhookUrl": Secret.URL},
    Provider.WEBHOOK: {"endpoint": Secret.URL},
    Provider.NTFY: {"token": Secret.TOKEN},
    Provider.PAGERDUTY: {"integrationKey": Secret.TOKEN},
    Provider.OPSGENIE: {"apiKey": Secret.TOKEN},
    Provider.EMAIL: {},
    Provider.SMS: {},
    Provider.WHATSAPP: {},
    Provider.TELEGRAM: {},
}
HEADER_VALUES_SECRET: frozenset[Provider] = frozenset({Provider.WEBHOOK})

_SHOWN = 4  # trailing characters shown of a long secret
_MIN_SHOWN_LENGTH = 12  # shorter secrets are masked whole


def mask_token(value: str) -> str:
    return f"{MASK}{value[-_SHOWN:]}" if len(value) >= _MIN_SHOWN_LENGTH else MASK


def mask_url(url: str) -> str:
    """``https://hooks.slack.com/services/T0/B0/abcdwxyz`` -> ``https://hooks.slack.com/****wxyz``."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # credentials in the URL are secret too
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    if rest in ("", "/"):
        return f"{parts.scheme}://{host}"
    tail = rest[-_SHOWN:] if len(rest) >= _MIN_SHOWN_LENGTH else ""
    return f"{parts.scheme}://{host}/{MASK}{tail}"


def _mask(kind: Secret, value: str) -> str:
    return mask_url(value) if kind is Secret.URL else mask_token(value)


def mask_config(provider: Provider, config: dict[str, Any]) -> dict[str, Any]:
    """The config as the API shows it: every secret masked."""
    shown = dict(config)
    for name, kind in SECRET_FIELDS[provider].items():
        if isinstance(shown.get(name), str):
            shown[name] = _mask(kind, shown[name])
    if provider in HEADER_VALUES_SECRET and isinstance(shown.get("headers"), list):
        shown["headers"] = [
            {**header, "value": mask_token(str(header.get("value", "")))} if header.get("value") else header
            for header in shown["headers"]
            if isinstance(header, dict)
        ]
    return shown


def merge_config(provider: Provider, stored: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``stored`` updated with ``changes``; omitted secrets, and secrets sent back masked, keep their value."""
    merged = {**stored, **changes}
    for name, kind in SECRET_FIELDS[provider].items():
        old = stored.get(name)
        if isinstance(old, str) and merged.get(name) == _mask(kind, old):
            merged[name] = old
    if provider in HEADER_VALUES_SECRET and isinstance(merged.get("headers"), list):
        old_values = {
            str(header.get("key", "")).lower(): str(header.get("value", ""))
            for header in stored.get("headers", [])
            if isinstance(header, dict)
        }
        restored = []
        for header in merged["headers"]:
            if isinstance(header, dict):
                old_value = old_values.get(str(header.get("key", "")).lower())
                if old_value and header.get("value") == mask_token(old_value):
                    header = {**header, "value": old_value}
            restored.append(header)
        merged["headers"] = restored
    return merged


def secret_values(provider: Provider, config: dict[str, Any]) -> list[str]:
    """Every string that must not appear in a log line or a stored error for this config."""
    values: list[str] = []
    for name, kind in SECRET_FIELDS[provider].items():
        value = config.get(name)
        if not isinstance(value, str) or not value:
            continue
        values.append(value)
        if kind is Secret.URL:
            parts = urlsplit(value)
            values += [parts.path, parts.query, parts.netloc.rpartition("@")[0]]
            values += [segment for segment in parts.path.split("/") if len(segment) >= 8]
    if provider in HEADER_VALUES_SECRET:
        values += [str(h.get("value", "")) for h in config.get("headers", []) if isinstance(h, dict)]
    return [value for value in values if len(value) >= 4]


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by the mask (longest first, so parts of a URL go last)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
