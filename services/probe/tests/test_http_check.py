"""HTTP checks end to end against a real local server (plain and TLS)."""

from __future__ import annotations

import base64
import json
import ssl
import time
from typing import Any

import pytest

from openstatus_common.messages.checks import AssertionSpec, CheckResult, CheckTarget, Header
from openstatus_common.testing.targets import CERT_NOT_AFTER, HttpTarget
from openstatus_common.vocab import CheckOutcome, Comparator, HttpMethod
from probe.checks import Checkers, TargetPolicy, execute
from probe.checks.http import BODY_LIMIT, HttpChecker, decode_body

from .conftest import MakeJob

C = Comparator


async def run(checkers: Checkers, make_job: MakeJob, url: str, **target: Any) -> CheckResult:
    target.setdefault("retry", 0)
    return await execute(make_job(kind="http", url=url, **target), policy=checkers.policy, checkers=checkers)


async def echo(checkers: Checkers, http_target: HttpTarget, **target: Any) -> dict[str, object]:
    """Run a check of /echo and return what the server saw (method, headers, body)."""
    attempt = await checkers.http.check(CheckTarget(kind="http", url=f"{http_target.url}/echo", **target))
    assert attempt.error is None and attempt.status_code == 200, attempt.error
    assert attempt.body is not None
    seen: dict[str, object] = json.loads(attempt.body)
    return seen


def header_values(seen: dict[str, object], name: str) -> list[str]:
    pairs = seen["headers"]
    assert isinstance(pairs, list)
    return [value for key, value in pairs if key.lower() == name.lower()]


# --- success, phases, status -----------------------------------------------------------------------


async def test_a_2xx_is_success_with_every_phase_timed(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(checkers, make_job, f"{http_target.url}/status/204")
    assert result.outcome is CheckOutcome.SUCCESS
    assert result.status_code == 204 and result.error is None and result.attempts == 1
    timing = result.timing
    assert timing.dns_ms is None  # an IP literal is not resolved
    assert timing.tls_ms is None  # plain HTTP
    assert timing.connect_ms is not None and timing.ttfb_ms is not None and timing.transfer_ms is not None
    assert timing.connect_ms + timing.ttfb_ms + timing.transfer_ms <= result.latency_ms
    assert result.response_headers["connection"] == "close"  # names lower-cased
    assert http_target.count("/status/204") == 1


async def test_a_host_name_is_resolved_and_timed(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    port = http_target.url.rsplit(":", 1)[1]
    result = await run(checkers, make_job, f"http://localhost:{port}/status/200")
    assert result.outcome is CheckOutcome.SUCCESS, result.error
    assert result.timing.dns_ms is not None


async def test_without_a_status_assertion_only_2xx_succeeds(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(checkers, make_job, f"{http_target.url}/status/500")
    assert result.outcome is CheckOutcome.ERROR
    assert result.status_code == 500
    assert result.error == "assertion failed: status code 500 is not 2xx"


@pytest.mark.parametrize(
    ("path", "assertion", "failure"),
    [
        ("/status/404", AssertionSpec(kind="statusCode", comparator=C.EQ, target="404"), None),
        (
            "/status/404",
            AssertionSpec(kind="statusCode", comparator=C.EQ, target="200"),
            "status code 404 is not eq 200",
        ),
        ("/body/all%20good", AssertionSpec(kind="textBody", comparator=C.CONTAINS, target="good"), None),
        (
            "/body/all%20bad",
            AssertionSpec(kind="textBody", comparator=C.CONTAINS, target="good"),
            'body does not contain "good"',
        ),
        (
            "/headers?X-Version=2.1&Content-Type=application/json",
            AssertionSpec(kind="header", key="content-type", comparator=C.CONTAINS, target="json"),
            None,
        ),
        (
            "/headers?X-Version=2.1",
            AssertionSpec(kind="header", key="X-Version", comparator=C.EQ, target="2.0"),
            'header x-version: "2.1" is not eq "2.0"',
        ),
        (
            "/status/200",
            AssertionSpec(kind="header", key="x-absent", comparator=C.EMPTY),
            None,
        ),
    ],
)
async def test_assertions_end_to_end(
    checkers: Checkers,
    make_job: MakeJob,
    http_target: HttpTarget,
    path: str,
    assertion: AssertionSpec,
    failure: str | None,
) -> None:
    result = await run(checkers, make_job, f"{http_target.url}{path}", assertions=(assertion,))
    if failure is None:
        assert result.outcome is CheckOutcome.SUCCESS, result.error
        assert result.error is None
    else:
        assert result.outcome is CheckOutcome.ERROR
        assert result.error == f"assertion failed: {failure}"


# --- degraded, retries, timeout ----------------------------------------------------------------------


async def test_slower_than_degraded_at_is_degraded(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    slow = await run(checkers, make_job, f"{http_target.url}/slow/300", degraded_at_ms=100)
    assert slow.outcome is CheckOutcome.DEGRADED
    assert slow.latency_ms >= 300 and slow.error is None
    fast = await run(checkers, make_job, f"{http_target.url}/slow/0", degraded_at_ms=5000)
    assert fast.outcome is CheckOutcome.SUCCESS
    unset = await run(checkers, make_job, f"{http_target.url}/slow/300")
    assert unset.outcome is CheckOutcome.SUCCESS


async def test_an_error_is_retried_and_attempts_are_counted(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(checkers, make_job, f"{http_target.url}/status/500", retry=2)
    assert result.outcome is CheckOutcome.ERROR
    assert result.attempts == 3
    assert http_target.count("/status/500") == 3


async def test_success_is_not_retried(checkers: Checkers, make_job: MakeJob, http_target: HttpTarget) -> None:
    result = await run(checkers, make_job, f"{http_target.url}/status/200", retry=3)
    assert result.attempts == 1 and http_target.count("/status/200") == 1


async def test_a_2s_timeout_against_a_10s_endpoint_fails_in_about_2s(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    started = time.monotonic()
    result = await run(checkers, make_job, f"{http_target.url}/slow/10000", timeout_ms=2000)
    elapsed = time.monotonic() - started
    assert result.outcome is CheckOutcome.ERROR
    assert result.error == "timeout after 2000 ms"
    assert 1.9 < elapsed < 5.0  # about 2 s, nowhere near the endpoint's 10 s (with room for a slow CI)
    assert 1900 <= result.latency_ms < 5000
    assert result.timing.connect_ms is not None and result.timing.ttfb_ms is None


async def test_a_dropped_connection_is_an_error_and_not_silently_resent(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(checkers, make_job, f"{http_target.url}/drop")
    assert result.outcome is CheckOutcome.ERROR
    assert result.error == "server closed the connection without a response"
    assert http_target.count("/drop") == 1


async def test_connection_refused(checkers: Checkers, make_job: MakeJob, closed_port: int) -> None:
    result = await run(checkers, make_job, f"http://127.0.0.1:{closed_port}/")
    assert result.outcome is CheckOutcome.ERROR
    assert result.error == "connection refused"


async def test_an_invalid_url_is_an_error_not_an_exception(checkers: Checkers, make_job: MakeJob) -> None:
    result = await run(checkers, make_job, "not a url")
    assert result.outcome is CheckOutcome.ERROR and result.error


# --- TLS ---------------------------------------------------------------------------------------------


async def test_tls_records_the_handshake_and_certificate_expiry(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(checkers, make_job, f"{http_target.tls_url}/status/200")
    assert result.outcome is CheckOutcome.SUCCESS, result.error
    assert result.certificate_expires_at == CERT_NOT_AFTER
    assert result.timing.tls_ms is not None and result.timing.tls_ms > 0
    assert result.timing.connect_ms is not None


async def test_tls_localhost_name_is_verified_against_the_certificate(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(checkers, make_job, f"https://localhost:{http_target.tls_port}/status/200")
    assert result.outcome is CheckOutcome.SUCCESS, result.error


async def test_an_untrusted_certificate_fails_verification(
    make_job: MakeJob, http_target: HttpTarget
) -> None:
    checker = HttpChecker(TargetPolicy(), ssl_context=ssl.create_default_context())  # system CAs only
    try:
        attempt = await checker.check(CheckTarget(kind="http", url=f"{http_target.tls_url}/status/200"))
    finally:
        await checker.close()
    assert attempt.error is not None
    assert attempt.error.startswith("TLS certificate verification failed:"), attempt.error
    assert http_target.count("/status/200") == 0


# --- redirects ---------------------------------------------------------------------------------------


async def test_redirects_are_followed(checkers: Checkers, make_job: MakeJob, http_target: HttpTarget) -> None:
    result = await run(checkers, make_job, f"{http_target.url}/redirect/3")
    assert result.outcome is CheckOutcome.SUCCESS and result.status_code == 200
    assert [path for _, path in http_target.requests] == [f"/redirect/{n}" for n in (3, 2, 1, 0)]
    assert result.timing.connect_ms is not None and result.timing.ttfb_ms is not None


async def test_redirects_are_not_followed_when_disabled(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(checkers, make_job, f"{http_target.url}/redirect/3", follow_redirects=False)
    assert result.status_code == 302
    assert (
        result.outcome is CheckOutcome.ERROR
        and result.error == "assertion failed: status code 302 is not 2xx"
    )
    assert result.response_headers["location"] == "/redirect/2"
    assert http_target.count("/redirect/2") == 0
    asserted = await run(
        checkers,
        make_job,
        f"{http_target.url}/redirect/3",
        follow_redirects=False,
        assertions=(AssertionSpec(kind="statusCode", comparator=C.EQ, target="302"),),
    )
    assert asserted.outcome is CheckOutcome.SUCCESS


async def test_at_most_ten_redirects_are_followed(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    ten = await run(checkers, make_job, f"{http_target.url}/redirect/10")
    assert ten.outcome is CheckOutcome.SUCCESS, ten.error
    eleven = await run(checkers, make_job, f"{http_target.url}/redirect/11")
    assert eleven.outcome is CheckOutcome.ERROR
    assert eleven.error == "too many redirects (more than 10)"


# --- what is sent ------------------------------------------------------------------------------------


async def test_user_agent_defaults_to_openstatus(checkers: Checkers, http_target: HttpTarget) -> None:
    seen = await echo(checkers, http_target)
    assert header_values(seen, "User-Agent") == ["openstatus/1.0"]
    assert seen["method"] == "GET"


async def test_the_monitor_can_set_its_own_user_agent_and_headers(
    checkers: Checkers, http_target: HttpTarget
) -> None:
    seen = await echo(
        checkers,
        http_target,
        headers=(Header(key="user-agent", value="custom/2.0"), Header(key="Authorization", value="Bearer t")),
    )
    assert header_values(seen, "User-Agent") == ["custom/2.0"]
    assert header_values(seen, "Authorization") == ["Bearer t"]


async def test_a_data_uri_body_is_sent_as_bytes_with_its_media_type(
    checkers: Checkers, http_target: HttpTarget
) -> None:
    raw = bytes([0, 1, 2, 255, 254])
    body = "data:application/octet-stream;base64," + base64.b64encode(raw).decode()
    seen = await echo(checkers, http_target, method=HttpMethod.POST, body=body)
    assert seen["method"] == "POST"
    assert base64.b64decode(str(seen["body_base64"])) == raw
    assert header_values(seen, "Content-Type") == ["application/octet-stream"]


async def test_a_content_type_header_wins_over_the_data_uri_media_type(
    checkers: Checkers, http_target: HttpTarget
) -> None:
    seen = await echo(
        checkers,
        http_target,
        method=HttpMethod.PUT,
        body="data:image/png;base64,iVBORw0KGgo=",
        headers=(Header(key="Content-Type", value="application/x-custom"),),
    )
    assert header_values(seen, "Content-Type") == ["application/x-custom"]
    assert base64.b64decode(str(seen["body_base64"])) == base64.b64decode("iVBORw0KGgo=")


async def test_a_text_body_is_sent_as_utf8_without_an_invented_content_type(
    checkers: Checkers, http_target: HttpTarget
) -> None:
    seen = await echo(checkers, http_target, method=HttpMethod.PATCH, body='{"name": "zoë"}')
    assert base64.b64decode(str(seen["body_base64"])).decode() == '{"name": "zoë"}'
    assert header_values(seen, "Content-Type") == []
    with_type = await echo(
        checkers,
        http_target,
        method=HttpMethod.POST,
        body="{}",
        headers=(Header(key="content-type", value="application/json"),),
    )
    assert header_values(with_type, "Content-Type") == ["application/json"]


async def test_head_has_no_body(checkers: Checkers, make_job: MakeJob, http_target: HttpTarget) -> None:
    result = await run(checkers, make_job, f"{http_target.url}/body/hello", method=HttpMethod.HEAD)
    assert result.outcome is CheckOutcome.SUCCESS, result.error
    assert http_target.requests == [("HEAD", "/body/hello")]


def test_decode_body() -> None:
    assert decode_body("plain") == (b"plain", None)
    assert decode_body("data:text/csv;base64,YSxi") == (b"a,b", "text/csv")
    assert decode_body("data:,hello%20there") == (b"hello there", "text/plain;charset=US-ASCII")
    assert decode_body("data:text/plain;charset=utf-8;base64,w6k=") == (
        "é".encode(),
        "text/plain;charset=utf-8",
    )
    with pytest.raises(ValueError, match="bad base64"):
        decode_body("data:application/octet-stream;base64,***")


async def test_a_malformed_data_uri_is_the_checks_error(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(
        checkers, make_job, f"{http_target.url}/echo", method=HttpMethod.POST, body="data:x;base64,!!"
    )
    assert result.outcome is CheckOutcome.ERROR
    assert result.error is not None and "invalid data: URI body" in result.error
    assert http_target.count("/echo") == 0


# --- what is kept ------------------------------------------------------------------------------------


async def test_the_body_is_read_up_to_the_cap(checkers: Checkers, http_target: HttpTarget) -> None:
    attempt = await checkers.http.check(
        CheckTarget(kind="http", url=f"{http_target.url}/bytes/{BODY_LIMIT + 5000}")
    )
    assert attempt.error is None
    assert attempt.body is not None and len(attempt.body) == BODY_LIMIT


async def test_the_result_carries_lower_cased_response_headers(
    checkers: Checkers, make_job: MakeJob, http_target: HttpTarget
) -> None:
    result = await run(
        checkers, make_job, f"{http_target.url}/headers?X-Request-Id=abc&Cache-Control=no-store"
    )
    assert result.response_headers["x-request-id"] == "abc"
    assert result.response_headers["cache-control"] == "no-store"
    assert all(name == name.lower() for name in result.response_headers)


async def test_execute_without_shared_checkers(
    make_job: MakeJob, http_target: HttpTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(http_target.ca_path))
    job = make_job(kind="http", url=f"{http_target.tls_url}/status/200", retry=0)
    result = await execute(job, policy=TargetPolicy())
    assert result.outcome is CheckOutcome.SUCCESS, result.error
    assert result.certificate_expires_at == CERT_NOT_AFTER
