"""Pure classification rules, without any network or event loop."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientConnectorError, ClientPayloadError, ServerDisconnectedError
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry.policy import (
    ALL_METHODS,
    IDEMPOTENT_METHODS,
    NETWORK_ERRORS,
    Verdict,
    exception_is_retryable,
    response_verdict,
)


def verdict(status: int, method: str = "GET", **overrides: object) -> Verdict:
    settings: dict[str, object] = {
        "statuses": frozenset(),
        "methods": ALL_METHODS,
        "retry_server_errors": True,
        "has_callback": False,
    }
    settings.update(overrides)
    return response_verdict(status, method, **settings)  # type: ignore[arg-type]


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
    assert verdict(200, "POST", methods={"GET"}, has_callback=True) is Verdict.FINAL


def retryable(exc: BaseException, method: str = "GET", **overrides: object) -> bool:
    settings: dict[str, object] = {"exceptions": (), "methods": ALL_METHODS, "network_errors": NETWORK_ERRORS}
    settings.update(overrides)
    return exception_is_retryable(exc, method, **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "exc",
    [ServerDisconnectedError(), asyncio.TimeoutError(), ClientConnectorError(None, OSError(111, "refused"))],  # type: ignore[arg-type]
)
def test_network_errors_are_retried_for_idempotent_methods_only(exc: BaseException) -> None:
    """Transport errors are retried for GET, PUT, ... but not for POST or PATCH."""
    assert all(retryable(exc, m) for m in IDEMPOTENT_METHODS)
    assert not retryable(exc, "POST")
    assert not retryable(exc, "PATCH")
    assert not retryable(exc, network_errors=())


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
