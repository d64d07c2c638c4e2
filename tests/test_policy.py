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

from aiohttp_retry.aiohttp_codec import AIOHTTP_CODEC, NETWORK_ERRORS, origin_key, origin_of
from aiohttp_retry.policy import (
    ALL_METHODS,
    IDEMPOTENT_METHODS,
    SAFE_METHODS,
    ErrorKind,
    error_is_retryable,
    is_failure_status,
    method_allowed,
)


@given(status=st.integers(100, 599))
def test_only_server_errors_are_failures_by_default(status: int) -> None:
    """Every status >= 500, and nothing else, marks a failed try by default."""
    assert is_failure_status(status, frozenset(), server_errors=True) == (status >= 500)


def test_listed_statuses_are_failures_even_without_server_errors() -> None:
    """statuses add to the 5xx rule; without it only they count."""
    assert is_failure_status(429, {429}, server_errors=True)
    assert not is_failure_status(503, frozenset(), server_errors=False)
    assert is_failure_status(503, {503}, server_errors=False)


def test_idempotency_key_admits_any_method() -> None:
    """A request carrying an idempotency key may be retried whatever its method."""
    assert not method_allowed("POST", SAFE_METHODS, keyed=False)
    assert method_allowed("POST", SAFE_METHODS, keyed=True)
    assert method_allowed("GET", SAFE_METHODS, keyed=False)


def retryable(
    exc: Exception,
    method: str = "GET",
    *,
    exceptions: tuple[type[BaseException], ...] = (),
    methods: frozenset[str] = ALL_METHODS,
    network_errors: bool = True,
    keyed: bool = False,
) -> bool:
    """The engine's question about an aiohttp error: its kind from the codec, the rest from the options."""
    return error_is_retryable(
        AIOHTTP_CODEC.error_kind(exc),
        listed=isinstance(exc, exceptions),
        allowed=keyed or method in methods,
        idempotent=keyed or method in IDEMPOTENT_METHODS,
        network_errors=network_errors,
    )


@pytest.mark.parametrize("exc", [ServerDisconnectedError(), asyncio.TimeoutError(), ClientOSError(104, "reset")])
def test_network_errors_are_retried_for_idempotent_requests_only(exc: Exception) -> None:
    """Transport errors are retried for GET, PUT, ... and keyed requests, not for plain POST or PATCH."""
    assert isinstance(exc, NETWORK_ERRORS)
    assert all(retryable(exc, m) for m in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"))
    assert not retryable(exc, "POST")
    assert not retryable(exc, "PATCH")
    assert retryable(exc, "POST", keyed=True)
    assert not retryable(exc, network_errors=False)
    assert not retryable(exc, methods=frozenset({"POST"}))


def test_failed_connect_is_retried_for_any_method() -> None:
    """A connect that failed sent nothing, so it is retried even for POST; a TLS failure is not."""
    refused = ClientConnectorError(None, OSError(111, "refused"))  # type: ignore[arg-type]
    assert retryable(refused, "POST", methods=frozenset({"GET"}))
    assert not retryable(refused, "POST", network_errors=False)
    tls = ClientConnectorCertificateError(None, ssl.SSLCertVerificationError("bad cert"))  # type: ignore[arg-type]
    assert AIOHTTP_CODEC.error_kind(tls) is ErrorKind.TLS
    assert not retryable(tls)


def test_listed_exceptions_apply_to_every_allowed_method() -> None:
    """A listed exception is retried for POST too, unless methods exclude it."""
    assert retryable(ClientPayloadError(), "POST", exceptions=(ClientPayloadError,))
    assert not retryable(ClientPayloadError(), "POST", exceptions=(ClientPayloadError,), methods=frozenset({"GET"}))
    assert not retryable(ClientPayloadError())


@given(
    kind=st.sampled_from(ErrorKind),
    listed=st.booleans(),
    allowed=st.booleans(),
    idempotent=st.booleans(),
    network_errors=st.booleans(),
)
def test_error_rule_table(kind: ErrorKind, listed: bool, allowed: bool, idempotent: bool, network_errors: bool) -> None:
    """The rule, restated: connects always (with network_errors); else only allowed requests, listed or transient."""
    expected = (network_errors and kind is ErrorKind.CONNECT) or (
        allowed and (listed or (network_errors and idempotent and kind in {ErrorKind.TRANSPORT, ErrorKind.TIMEOUT}))
    )
    got = error_is_retryable(kind, listed=listed, allowed=allowed, idempotent=idempotent, network_errors=network_errors)
    assert got == expected


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
