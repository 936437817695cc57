"""Monitor bodies on the wire: the RPC messages' camelCase names, enums as short strings.

Input accepts every spelling of an enum (``1m``, ``PERIODICITY_1M``, ``2``) and int64 fields as numbers or
numeric strings (proto3 JSON); output uses the short spellings and numbers. Unknown fields are refused.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)

from openstatus_common.vocab import (
    HTTP_METHOD,
    METHODS_WITH_BODY,
    PERIODICITY,
    AssertionKind,
    Comparator,
    DnsRecordType,
    HttpMethod,
    Periodicity,
    Region,
    parse_comparator,
    parse_region,
)

MAX_ASSERTIONS = 10
MAX_HEADERS = 20
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$"
)
_DATA_URI = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w-]+=[\w.+-]+)*);base64,(?P<data>.*)$", re.S
)


def _int64(value: Any) -> Any:
    """proto3 JSON sends int64 as a string: accept "45000" like 45000 (but not 45000.5 or "abc")."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value


Int64 = Annotated[int, BeforeValidator(_int64)]


def _enum_input(parse: Any) -> BeforeValidator:
    def convert(value: Any) -> Any:
        return parse(value)

    return BeforeValidator(convert)


PeriodicityField = Annotated[Periodicity, _enum_input(PERIODICITY.parse), PlainSerializer(lambda p: p.value)]
MethodField = Annotated[HttpMethod, _enum_input(HTTP_METHOD.parse), PlainSerializer(lambda m: m.value)]
RegionField = Annotated[Region, _enum_input(parse_region), PlainSerializer(lambda r: r.value)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class HeaderItem(Strict):
    key: Annotated[str, Field(min_length=1, max_length=256)]
    value: Annotated[str, Field(max_length=8192)] = ""

    @field_validator("key")
    @classmethod
    def _valid_name(cls, key: str) -> str:
        if not _HEADER_NAME.match(key):
            raise ValueError("must be a valid HTTP header name (no spaces, colons, CR or LF)")
        return key

    @field_validator("value")
    @classmethod
    def _no_line_breaks(cls, value: str) -> str:
        if "\r" in value or "\n" in value or "\x00" in value:
            raise ValueError("must not contain CR, LF or NUL")
        return value


class OpenTelemetryConfig(Strict):
    endpoint: Annotated[str, Field(max_length=2048)] = ""
    headers: Annotated[list[HeaderItem], Field(max_length=MAX_HEADERS)] = []

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, endpoint: str) -> str:
        if endpoint:
            _require_http_url(endpoint)
        return endpoint


def _comparator(kind: AssertionKind) -> BeforeValidator:
    return _enum_input(lambda value: parse_comparator(kind, value))


ComparatorOut = PlainSerializer(lambda c: c.value)


class StatusCodeAssertion(Strict):
    comparator: Annotated[Comparator, _comparator(AssertionKind.STATUS_CODE), ComparatorOut]
    target: Annotated[Int64, Field(ge=100, le=599)]


class BodyAssertion(Strict):
    comparator: Annotated[Comparator, _comparator(AssertionKind.BODY), ComparatorOut]
    target: Annotated[str, Field(max_length=4096)] = ""


class HeaderAssertion(Strict):
    key: Annotated[str, Field(min_length=1, max_length=256)]
    comparator: Annotated[Comparator, _comparator(AssertionKind.HEADER), ComparatorOut]
    target: Annotated[str, Field(max_length=4096)] = ""


class RecordAssertion(Strict):
    record: Annotated[
        DnsRecordType,
        _enum_input(lambda value: DnsRecordType(str(value).upper().removeprefix("RECORD_TYPE_"))),
        PlainSerializer(lambda r: r.value),
    ]
    comparator: Annotated[Comparator, _comparator(AssertionKind.RECORD), ComparatorOut]
    target: Annotated[str, Field(max_length=4096)] = ""


class MonitorBase(Strict):
    """Fields every kind shares, with the documented defaults and limits."""

    name: Annotated[str, Field(min_length=1, max_length=256)]
    description: Annotated[str, Field(max_length=1024)] = ""
    periodicity: PeriodicityField
    timeout: Annotated[Int64, Field(ge=1, le=120_000)] = 45_000
    retry: Annotated[Int64, Field(ge=0, le=10)] = 3
    degradedAt: Annotated[Int64, Field(ge=0, le=120_000)] | None = None
    regions: Annotated[list[RegionField], Field(max_length=28)] | None = None
    active: bool = False
    public: bool = False
    openTelemetry: OpenTelemetryConfig | None = None
    # Incident rules; None means the engine's default. quorum: regions in error that make an outage (default
    # half of them, rounded up); thresholds: consecutive checks before a region fails, or recovers (default 1).
    quorum: Annotated[Int64, Field(ge=1, le=28)] | None = None
    failureThreshold: Annotated[Int64, Field(ge=1, le=100)] | None = None
    successThreshold: Annotated[Int64, Field(ge=1, le=100)] | None = None

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("must not be blank")
        return name

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, regions: list[Region] | None) -> list[Region] | None:
        if regions is None:
            return None
        unique = list(dict.fromkeys(regions))
        if not unique:
            raise ValueError("at least one region is required")
        return unique

    @field_validator("degradedAt")
    @classmethod
    def _degraded_below_timeout(cls, degraded: int | None, info: ValidationInfo) -> int | None:
        timeout = info.data.get("timeout")
        if degraded is not None and timeout is not None and degraded >= timeout:
            raise ValueError(f"must be lower than timeout ({degraded} ms >= {timeout} ms)")
        return degraded


class HTTPMonitorIn(MonitorBase):
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    method: MethodField = HttpMethod.GET
    body: Annotated[str, Field(max_length=1_000_000)] = ""
    headers: Annotated[list[HeaderItem], Field(max_length=MAX_HEADERS)] = []
    followRedirects: bool = True
    statusCodeAssertions: Annotated[list[StatusCodeAssertion], Field(max_length=MAX_ASSERTIONS)] = []
    bodyAssertions: Annotated[list[BodyAssertion], Field(max_length=MAX_ASSERTIONS)] = []
    headerAssertions: Annotated[list[HeaderAssertion], Field(max_length=MAX_ASSERTIONS)] = []

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        return _require_http_url(url)

    @field_validator("body")
    @classmethod
    def _body(cls, body: str, info: ValidationInfo) -> str:
        method = info.data.get("method")
        if body and method is not None and method not in METHODS_WITH_BODY:
            raise ValueError(f"is only sent with POST, PUT or PATCH, not {method.value}")
        if body.startswith("data:"):
            decode_data_uri(body)
        return body


class TCPMonitorIn(MonitorBase):
    uri: Annotated[str, Field(min_length=1, max_length=2048)]

    @field_validator("uri")
    @classmethod
    def _host_port(cls, uri: str) -> str:
        split_host_port(uri)
        return uri


class DNSMonitorIn(MonitorBase):
    uri: Annotated[str, Field(min_length=1, max_length=2048)]
    recordAssertions: Annotated[list[RecordAssertion], Field(max_length=MAX_ASSERTIONS)] = []

    @field_validator("uri")
    @classmethod
    def _domain(cls, uri: str) -> str:
        if not _HOSTNAME.match(uri):
            raise ValueError("must be a domain name such as example.com")
        return uri.rstrip(".")


MonitorIn = HTTPMonitorIn | TCPMonitorIn | DNSMonitorIn
INPUT_MODELS: dict[str, type[MonitorBase]] = {"http": HTTPMonitorIn, "tcp": TCPMonitorIn, "dns": DNSMonitorIn}


def _require_http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if any(ch in url for ch in "\r\n\t "):
        raise ValueError("must not contain whitespace")
    try:
        _ = parts.port
    except ValueError as error:
        raise ValueError(f"has an invalid port: {error}") from None
    return url


def split_host_port(uri: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port``; raises ValueError naming what is wrong."""
    host, sep, port_text = uri.rpartition(":")
    if not sep or not host:
        raise ValueError("must be host:port, for example db.example.com:5432")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError("an IPv6 host must be written [address]:port")
        host = host[1:-1]
    elif not _HOSTNAME.match(host):
        raise ValueError(f"has an invalid host {host!r}")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("port must be a number from 1 to 65535")
    return host, int(port_text)


def decode_data_uri(body: str) -> tuple[str, bytes]:
    match = _DATA_URI.match(body)
    if not match:
        raise ValueError("a data: body must look like data:<type>;base64,<data>")
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the base64 part of the data: body is not valid base64") from None
    return match["mime"] or "application/octet-stream", data


class MonitorOut(BaseModel):
    """A monitor as returned by the API: every input field plus id, kind, status and timestamps."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: Literal["http", "tcp", "dns"]
    status: str
    createdAt: datetime
    updatedAt: datetime


class MonitorPage(BaseModel):
    items: list[dict[str, Any]]
    totalSize: int
    limit: int
    offset: int
