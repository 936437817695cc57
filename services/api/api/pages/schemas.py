"""Status page bodies on the wire: camelCase names, ids as numbers or numeric strings (returned as strings).

``PageIn`` is the whole configuration: a create is validated against it, and so is an update, after the
changes are merged into the stored page. Unknown fields are refused. ``password`` is write-only: it is hashed
by the service and never returned (``hasPassword`` says whether one is set).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from api.errors import TIMESTAMP_MESSAGE
from openstatus_common.pages import domains

MAX_LIST = 100
# The longest name DNS carries: a custom domain's _openstatus.<domain> record must fit.
MAX_DNS_NAME = 253
Theme = Literal["default", "supabase", "github-high-contrast"]
ColorScheme = Literal["light", "dark", "system"]
AccessType = Literal["public", "password", "email-domain", "ip-restriction"]
Locale = Literal["en", "fr", "de"]

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# The spellings of other surfaces (proto PageAccessType names, Terraform) for the access types.
_ACCESS_ALIASES = {
    "password-protected": "password",
    "password_protected": "password",
    "authenticated": "email-domain",
    "email_domain": "email-domain",
    "ip-restricted": "ip-restriction",
    "ip_restricted": "ip-restriction",
    "ip_restriction": "ip-restriction",
}


def _id(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an id")
    if isinstance(value, str):
        if not re.fullmatch(r"\d{1,18}", value.strip()):
            raise ValueError(f"must be an id, got {value!r}")
        return int(value)
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(TIMESTAMP_MESSAGE)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


def _enum_spelling(prefix: str, aliases: dict[str, str] | None = None) -> BeforeValidator:
    """Accept ``PREFIX_VALUE``, any case and surrounding spaces; map other surfaces' names."""

    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip().lower().removeprefix(prefix)
        return (aliases or {}).get(text, text)

    return BeforeValidator(convert)


# Paths the status-page service answers itself, so no page can be reached there.
RESERVED_SLUGS = frozenset({"healthz", "readyz", "public", "static", "api"})

Id = Annotated[int, BeforeValidator(_id), Field(ge=1, le=2**63 - 1)]
Timestamp = Annotated[datetime, AfterValidator(_aware)]
Name = Annotated[str, Field(min_length=1, max_length=256)]
Description = Annotated[str, Field(max_length=1024)]
AccessTypeField = Annotated[AccessType, _enum_spelling("page_access_type_", _ACCESS_ALIASES)]
LocaleField = Annotated[Locale, _enum_spelling("locale_")]


def not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


def hostname(value: str, *, what: str = "a domain name such as status.example.com") -> str:
    """``value`` lowercased without a trailing dot, or ValueError unless it is a dotted host name."""
    host = value.strip().lower().rstrip(".")
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"must be {what}")
    if labels[-1].isdigit():
        raise ValueError(f"must be {what}, not an IP address")
    return host


def _bare_host(value: str) -> str:
    """``https://status.acme.com/`` as ``status.acme.com``: the address people paste is the domain they
    mean. A path, port or anything else stays and is refused by ``hostname``."""
    text = value.strip()
    if not re.match(r"(?i)^https?://", text):
        return text
    parts = urlsplit(text)
    if parts.path in ("", "/") and not (parts.query or parts.fragment or parts.port or parts.username):
        return parts.hostname or text
    return text


def ip_ranges(value: Any) -> Any:
    """A list or a comma-separated string of IPv4 addresses or CIDR ranges, as normalized CIDR strings."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return value
    ranges: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise ValueError(f"[{index}] must be a string")
        text = item.strip()
        if not text and isinstance(value, str):
            continue
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"{text!r} is not an IPv4 address or CIDR range") from None
        if network.version != 4:
            raise ValueError(f"{text!r} is IPv6; only IPv4 addresses and ranges are supported")
        if str(network) not in ranges:
            ranges.append(str(network))
    return ranges


def _url(value: str | None, *, mailto: bool) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if any(ch in value for ch in "\r\n\t "):
        raise ValueError("must not contain whitespace")
    parts = urlsplit(value)
    if mailto and parts.scheme.lower() == "mailto":
        if "@" not in parts.path:
            raise ValueError("a mailto: link needs an email address (mailto:support@example.com)")
        return value
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        allowed = "an http(s):// URL or a mailto: link" if mailto else "an http:// or https:// URL"
        raise ValueError(f"must be {allowed}")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Tracker(Strict):
    """How the uptime bars are drawn: stored in ``status_pages.tracker`` with exactly these keys."""

    barType: Literal["absolute", "manual"] = "absolute"
    cardType: Literal["duration", "requests"] = "requests"
    showUptime: bool = True


class PageIn(Strict):
    """A status page's configuration. ``published`` defaults to true: a page created through the API is
    online at once (set it to false to prepare a page before showing it).

    Rules across fields (a password for ``password`` access, domains for ``email-domain``, ranges for
    ``ip-restriction``, the default locale among ``locales``) are checked by the service, which knows
    whether a password is already stored.
    """

    title: Name
    # At most 63: a slug is also a DNS label (<slug>.<base domain>).
    slug: Annotated[str, Field(min_length=1, max_length=63)]
    description: Description = ""
    homepageUrl: Annotated[str, Field(max_length=2048)] | None = None
    contactUrl: Annotated[str, Field(max_length=2048)] | None = None
    customDomain: Annotated[str, Field(max_length=256)] | None = None
    published: bool = True
    theme: Theme = "default"
    colorScheme: ColorScheme = "system"
    accessType: AccessTypeField = "public"
    password: Annotated[str, Field(min_length=8, max_length=256)] | None = None
    authEmailDomains: Annotated[list[str], Field(max_length=MAX_LIST)] = []
    allowedIpRanges: Annotated[list[str], BeforeValidator(ip_ranges), Field(max_length=MAX_LIST)] = []
    defaultLocale: LocaleField = "en"
    locales: Annotated[list[LocaleField], Field(max_length=3)] = []
    allowIndex: bool = True
    whiteLabel: bool = False
    tracker: Tracker = Tracker()

    _title = field_validator("title")(not_blank)

    @field_validator("slug")
    @classmethod
    def _slug(cls, slug: str) -> str:
        if not _SLUG.match(slug):
            raise ValueError(
                "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit"
            )
        if slug in RESERVED_SLUGS:
            raise ValueError(f"{slug!r} is reserved; choose another")
        return slug

    @field_validator("homepageUrl")
    @classmethod
    def _homepage(cls, value: str | None) -> str | None:
        return _url(value, mailto=False)

    @field_validator("contactUrl")
    @classmethod
    def _contact(cls, value: str | None) -> str | None:
        return _url(value, mailto=True)

    @field_validator("customDomain")
    @classmethod
    def _custom_domain(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        domain = hostname(_bare_host(value))
        if len(domains.record_name(domain)) > MAX_DNS_NAME:
            # Its TXT record, _openstatus.<domain>, must still be a valid DNS name.
            raise ValueError(f"must be at most {MAX_DNS_NAME - len(domains.record_name(''))} characters")
        return domain

    @field_validator("authEmailDomains")
    @classmethod
    def _email_domains(cls, domains: list[str]) -> list[str]:
        normalized = [
            hostname(domain.strip().removeprefix("@"), what="an email domain") for domain in domains
        ]
        return list(dict.fromkeys(normalized))

    @field_validator("locales")
    @classmethod
    def _unique_locales(cls, locales: list[str]) -> list[str]:
        return list(dict.fromkeys(locales))


class DnsRecord(BaseModel):
    type: str
    name: str
    value: str


class DomainVerification(BaseModel):
    """The proof a custom domain needs before the page answers at it: ``record`` published in DNS."""

    verified: bool
    verifiedAt: datetime | None
    record: DnsRecord | None


class PageOut(BaseModel):
    """A status page as returned: the configuration without the password, plus ids, links and timestamps."""

    id: str
    title: str
    slug: str
    description: str
    homepageUrl: str | None
    contactUrl: str | None
    customDomain: str | None
    customDomainVerification: DomainVerification | None
    published: bool
    theme: Theme
    colorScheme: ColorScheme
    accessType: AccessType
    hasPassword: bool
    authEmailDomains: list[str]
    allowedIpRanges: list[str]
    defaultLocale: Locale
    locales: list[Locale]
    allowIndex: bool
    whiteLabel: bool
    tracker: Tracker
    iconUrl: str | None
    iconContentType: str | None
    # Legacy (v1): the monitors of the page's monitor components; static components are not included.
    monitorIds: list[str]
    monitors: list[int]
    pageComponents: list[str]
    createdAt: datetime
    updatedAt: datetime


class PageList(BaseModel):
    items: list[PageOut]
    totalSize: int
    limit: int
    offset: int
