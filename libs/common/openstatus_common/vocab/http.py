"""HTTP methods a monitor may use (wire ``HTTP_METHOD_*``)."""

from __future__ import annotations

from enum import StrEnum

from openstatus_common.vocab._lookup import Vocabulary


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    HEAD = "HEAD"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    TRACE = "TRACE"
    CONNECT = "CONNECT"
    OPTIONS = "OPTIONS"


HTTP_METHOD = Vocabulary(
    HttpMethod,
    wire_prefix="HTTP_METHOD_",
    numbers={m: i for i, m in enumerate(HttpMethod, start=1)},
    label="HTTP method",
)

# Methods whose request may carry a body (seed: "Available for: POST, PUT, PATCH").
METHODS_WITH_BODY = frozenset({HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH})
