"""Pure classification rules, without any network or event loop."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from aiohttp import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientOSError,
    ClientPayloadError,
    ServerDisconnectedError,
)
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from aiohttp_retry.policy import (
    ALL_METHODS,
    IDEMPOTENT_METHODS,
    NETWORK_ERRORS,
    SAFE_METHODS,
    Verdict,
    exception_is_retryable,
    method_allowed,
    response_verdict,
)
from aiohttp_retry.policy.origin import origin_key, origin_of


def verdict(status: int, allowed: bool = True, **overrides: object) -> Verdict:
    settings: dict[str, object] = {"statuses": frozenset(), "retry_server_errors": True, "has_callback": False}
    settings.update(overrides)
    return response_verdict(status, allowed, **settings)  # type: ignore[arg-type]


@given(status=st.integers(100, 599))
def test_only_server_errors_are_retried_by_default(status: int) -> None:
    """Every status >= 500, and nothing else, is retried by default."""
    assert (verdict(status) is Verdict.RETRY) == (status >= 500)


def test_listed_statuses_are_retried_even_without_server_errors() -> None:
    """statuses add to the 5xx rule; without it only they are retried."""
    assert verdict(429, statuses={429}) is Verdict.RETRY
    assert verdict(503, retry_server_errors=False) is Verdict.FINAL
    assert verdict(503, statuses={503}, retry_server_errors=False) is Verdict.RETRY


def test_callback_decides_only_undecided_responses() -> None:
    """The response callback is consulted for non-retryable statuses of allowed methods only."""
    assert verdict(200, has_callback=True) is Verdict.ASK
    assert verdict(500, has_callback=True) is Verdict.RETRY
    assert verdict(200, allowed=False, has_callback=True) is Verdict.FINAL
    assert verdict(500, allowed=False) is Verdict.FINAL


def test_idempotency_key_admits_any_method() -> None:
    """A request carrying an idempotency key may be retried whatever its method."""
    assert not method_allowed("POST", SAFE_METHODS, keyed=False)
    assert method_allowed("POST", SAFE_METHODS, keyed=True)
    assert method_allowed("GET", SAFE_METHODS, keyed=False)


def retryable(exc: BaseException, method: str = "GET", **overrides: object) -> bool:
    settings: dict[str, object] = {"exceptions": (), "methods": ALL_METHODS, "network_errors": True, "keyed": False}
    settings.update(overrides)
    return exception_is_retryable(exc, method, **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("exc", [ServerDisconnectedError(), asyncio.TimeoutError(), ClientOSError(104, "reset")])
def test_network_errors_are_retried_for_idempotent_requests_only(exc: BaseException) -> None:
    """Transport errors are retried for GET, PUT, ... and keyed requests, not for plain POST or PATCH."""
    assert isinstance(exc, NETWORK_ERRORS)
    assert all(retryable(exc, m) for m in IDEMPOTENT_METHODS)
    assert not retryable(exc, "POST")
    assert not retryable(exc, "PATCH")
    assert retryable(exc, "POST", keyed=True)
    assert not retryable(exc, network_errors=False)
    assert not retryable(exc, methods={"POST"})


def test_failed_connect_is_retried_for_any_method() -> None:
    """A connect that failed sent nothing, so it is retried even for POST; a TLS failure is not."""
    refused = ClientConnectorError(None, OSError(111, "refused"))  # type: ignore[arg-type]
    assert retryable(refused, "POST", methods={"GET"})
    assert not retryable(refused, "POST", network_errors=False)
    tls = ClientConnectorCertificateError(None, ssl.SSLCertVerificationError("bad cert"))  # type: ignore[arg-type]
    assert not retryable(tls)


def test_listed_exceptions_apply_to_every_allowed_method() -> None:
    """A listed exception is retried for POST too, unless methods exclude it."""
    assert retryable(ClientPayloadError(), "POST", exceptions=(ClientPayloadError,))
    assert not retryable(ClientPayloadError(), "POST", exceptions=(ClientPayloadError,), methods={"GET"})
    assert not retryable(ClientPayloadError())


def test_cancellation_is_never_retried() -> None:
    """CancelledError and KeyboardInterrupt are not retried even when listed."""
    listed = (BaseException,)
    assert not retryable(asyncio.CancelledError(), exceptions=listed)
    assert not retryable(KeyboardInterrupt(), exceptions=listed)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://example.com/a?b=c", "example.com"),
        ("https://example.com:443/", "example.com"),
        ("https://example.com:8443/x", "example.com:8443"),
        ("http://EXAMPLE.com./", "example.com"),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("/relative/path", ""),
    ],
)
def test_origin_key_is_the_host_header_value(url: str, key: str) -> None:
    """Shared state is keyed by host[:port] as the Host header spells it, the same for text and parsed URLs."""
    assert origin_of(url) == key
    assert origin_key(URL(url)) == key
