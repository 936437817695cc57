"""Notification channel bodies on the wire: the SDK's camelCase names; provider in any spelling.

``data`` holds the provider's fields (``webhookUrl``, ``integrationKey`` ...). It is validated against the
provider's model by the service, which names the bad field as ``data.<field>``. Ids are accepted as numbers or
numeric strings and returned as strings. Unknown top-level fields are refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from openstatus_common.notify import Provider, parse_provider

MAX_MONITORS = 500


def _id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a monitor id")
    if isinstance(value, str):
        if not re.fullmatch(r"\d{1,18}", value.strip()):
            raise ValueError(f"must be a monitor id, got {value!r}")
        return int(value)
    return value


def _provider(value: Any) -> Provider:
    return parse_provider(value)


Id = Annotated[int, BeforeValidator(_id), Field(ge=1)]
ProviderField = Annotated[Provider, BeforeValidator(_provider), PlainSerializer(lambda p: p.value)]
Name = Annotated[str, Field(min_length=1, max_length=256)]


def _not_blank(name: str | None) -> str | None:
    if name is not None and not name.strip():
        raise ValueError("must not be blank")
    return name


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotificationIn(Strict):
    """A channel to create. ``name`` defaults to the provider's name."""

    name: Name | None = None
    provider: ProviderField
    data: dict[str, Any]
    monitorIds: Annotated[list[Id], Field(max_length=MAX_MONITORS)] = []

    _name = field_validator("name")(_not_blank)


class NotificationPatch(Strict):
    """Only the fields given change. ``data`` is merged into the stored config: a secret left out, or sent
    back in its masked form, keeps its value. ``monitorIds``, when given, replaces the linked monitors."""

    name: Name | None = None
    data: dict[str, Any] | None = None
    monitorIds: Annotated[list[Id], Field(max_length=MAX_MONITORS)] | None = None
    provider: Any = None

    _name = field_validator("name")(_not_blank)

    @field_validator("provider")
    @classmethod
    def _provider_is_fixed(cls, provider: Any) -> None:
        if provider is not None:
            raise ValueError("cannot change; create a new channel for another provider")
        return None


class SendTestIn(Strict):
    """A configuration to try: a test message is sent to it, nothing is saved."""

    provider: ProviderField
    data: dict[str, Any]
