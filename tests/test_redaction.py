"""The library never writes secrets: not in log lines, their extras, event reprs, its exceptions or its notes.

Each test plants secrets in every place a request can carry them (Authorization,
Proxy-Authorization, Cookie, a user-named header, a Set-Cookie answer, URL
userinfo, a query parameter), makes a call that fails, retries and ends badly,
through RetryClient and RetryMiddleware, with the ``aiohttp_retry`` logger at
DEBUG, and searches everything the library wrote. aiohttp's own exception text
(``ClientResponseError`` carries the request headers) is not the library's and
is not searched; the notes the library adds to such exceptions are.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import ClientResponseError, ClientSession

from aiohttp_retry import (
    BodyNotReplayableError,
    CircuitBreaker,
    CircuitOpenError,
    ExponentialRetry,
    GaveUp,
    RetryError,
    RetryScheduled,
    RetryTimeoutError,
)
from aiohttp_retry.observe import LoggingListener, Redactor
from tests.drivers import NO_RAISE_FOR_STATUS, ClientDriver, Driver
from tests.fault_server import Drop, FaultServer, Reply

SECRETS = (
    "S3CRET-A",  # Authorization
    "S3CRET-B",  # Proxy-Authorization
    "S3CRET-C",  # Cookie
    "S3CRET-D",  # Set-Cookie of the answers
    "S3CRET-E",  # URL userinfo
    "S3CRET-F",  # query parameter
    "S3CRET-G",  # a header the user names as sensitive
    base64.b64encode(b"user:S3CRET-E").decode(),  # userinfo as aiohttp turns it into Authorization: Basic
)

HEADERS = {
    "Authorization": "Bearer S3CRET-A",
    "Proxy-Authorization": "Basic S3CRET-B",
    "Cookie": "sid=S3CRET-C",
    "X-Api-Key": "S3CRET-G",
}

#: The answer of a failed try: it sets a secret cookie.
SECRET_COOKIE = {"Set-Cookie": "sid=S3CRET-D; Path=/"}

#: A redactor configured by the user: only the token is hidden, so page=2 stays readable.
USER_REDACTOR = Redactor(headers=frozenset({"X-Api-Key"}), query=frozenset({"token"}))


class Watch:
    """Every event of a call, and a logging listener with the user's redactor on a child logger."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.logging = LoggingListener(logging.getLogger("aiohttp_retry.user"), redactor=USER_REDACTOR)

    @property
    def listeners(self) -> list[Callable[[Any], object]]:
        return [self.events.append, self.logging]


def where(fault: FaultServer, path: str, place: str) -> tuple[str, dict[str, str]]:
    """The URL and headers of a call whose secrets are in its headers, or in its URL's userinfo.

    aiohttp refuses an Authorization header together with userinfo, so the userinfo call drops that header.
    """
    query = "?token=S3CRET-F&page=2"
    if place == "headers":
        return fault.url(path) + query, dict(HEADERS)
    url = fault.url(path).replace("http://", "http://user:S3CRET-E@", 1) + query
    return url, {k: v for k, v in HEADERS.items() if k != "Authorization"}


def library_exceptions(error: BaseException | None) -> list[BaseException]:
    """``error`` and the exceptions chained to it."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def written(caplog: pytest.LogCaptureFixture, events: list[Any], error: BaseException | None) -> list[str]:
    """Everything the library wrote: log messages and extras, event reprs, its exceptions' text, its notes."""
    texts: list[str] = []
    for record in caplog.records:
        if record.name.startswith("aiohttp_retry"):
            texts.append(record.getMessage())
            texts.extend(f"{name}={value}" for name, value in record.__dict__.items())
    texts.extend(repr(event) for event in events)
    for exc in library_exceptions(error):
        if isinstance(exc, RetryError):
            texts += [str(exc), repr(exc)]
        texts.extend(str(note) for note in getattr(exc, "__notes__", ()))
    return texts


def assert_no_secret(texts: list[str]) -> None:
    leaks = [(secret, text) for text in texts for secret in SECRETS if secret in text]
    assert not leaks, f"secrets written by the library: {leaks[:5]}"


def assert_something_was_written(caplog: pytest.LogCaptureFixture, watch: Watch) -> None:
    """Guard against a vacuous pass: the call was logged and its events seen, by both redactors."""
    own = [r.getMessage() for r in caplog.records if r.name == "aiohttp_retry"]
    user = [r.getMessage() for r in caplog.records if r.name == "aiohttp_retry.user"]
    assert any(m.startswith("Attempt 1 out of") for m in own)
    assert any(m.startswith(("Retrying", "Gave up on")) for m in own)
    assert any("token=***&page=***" in m for m in own)  # the default redactor masks every query value
    assert any("token=***&page=2" in m for m in user)  # the user's masks the token only
    assert any(isinstance(e, (RetryScheduled, GaveUp)) for e in watch.events)


async def call(
    driver: Driver, url: str, options: ExponentialRetry, **kwargs: Any
) -> tuple[int | None, BaseException | None]:
    """Make one call; return its status, or the exception it raised."""
    try:
        response = await driver.request(kwargs.pop("method", "GET"), url, options, **kwargs)
    except Exception as error:  # every outcome is searched
        return None, error
    await response.release()
    return response.status, None


PLACES = ["headers", "userinfo"]


@pytest.fixture(autouse=True)
def _debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp_retry")


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        session._retry_connection = False
        yield session


@pytest.mark.aiohttp_only(NO_RAISE_FOR_STATUS)
@pytest.mark.parametrize("place", PLACES)
async def test_status_drop_then_raise_for_status(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer, caplog: pytest.LogCaptureFixture, place: str
) -> None:
    """A 503 (setting a cookie), a dropped connection, then 404s raised by raise_for_status: nothing leaks.

    Through RetryClient the ClientResponseError (whose own text carries the headers) is a retried
    outcome, so it appears in events, log lines and the library's note; the middleware returns the
    404 and aiohttp raises after it.
    """
    late = Reply(404, headers=SECRET_COOKIE)
    path = fault.script("/p", Reply(503, headers=SECRET_COOKIE), Drop(), late)
    url, headers = where(fault, path, place)
    watch = Watch()
    opts = ExponentialRetry(attempts=4, start_timeout=0, exceptions={ClientResponseError}, listeners=watch.listeners)
    status, error = await call(make_driver(session), url, opts, headers=headers, raise_for_status=True)
    assert status is None
    assert isinstance(error, ClientResponseError)
    assert error.status == 404
    assert any(isinstance(e, RetryScheduled) for e in watch.events)
    if make_driver is ClientDriver:  # the error went through the engine: in its events and its note
        assert any(isinstance(e, GaveUp) and e.error is error for e in watch.events)
        assert any("aiohttp_retry" in note for note in getattr(error, "__notes__", ()))
    assert_something_was_written(caplog, watch)
    assert_no_secret(written(caplog, watch.events, error))


@pytest.mark.parametrize("place", PLACES)
async def test_last_error_reraised_with_a_note(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer, caplog: pytest.LogCaptureFixture, place: str
) -> None:
    """A 503 then dropped connections: the last error is re-raised with the library's note, which leaks nothing."""
    path = fault.script("/p", Reply(503, headers=SECRET_COOKIE), Drop())
    url, headers = where(fault, path, place)
    watch = Watch()
    opts = ExponentialRetry(attempts=3, start_timeout=0, listeners=watch.listeners)
    _, error = await call(make_driver(session), url, opts, headers=headers)
    assert isinstance(error, make_driver.disconnected)
    assert any("aiohttp_retry" in note for note in getattr(error, "__notes__", ()))
    assert_something_was_written(caplog, watch)
    assert_no_secret(written(caplog, watch.events, error))


@pytest.mark.looptime
@pytest.mark.parametrize("place", PLACES)
async def test_retry_timeout_error(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer, caplog: pytest.LogCaptureFixture, place: str
) -> None:
    """Tries cut by attempt_timeout end in a RetryTimeoutError whose text and notes leak nothing."""
    path = fault.script("/p", Reply(200, delay=5))
    url, headers = where(fault, path, place)
    watch = Watch()
    opts = ExponentialRetry(attempts=2, start_timeout=0, attempt_timeout=0.5, listeners=watch.listeners)
    _, error = await call(make_driver(session), url, opts, headers=headers)
    assert isinstance(error, RetryTimeoutError)
    assert_something_was_written(caplog, watch)
    assert_no_secret(written(caplog, watch.events, error))


@pytest.mark.parametrize("place", PLACES)
async def test_body_not_replayable_error(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer, caplog: pytest.LogCaptureFixture, place: str
) -> None:
    """A one-shot body that cannot be sent again ends in a BodyNotReplayableError that leaks nothing."""
    path = fault.script("/p", Reply(503, headers=SECRET_COOKIE), 200)
    url, headers = where(fault, path, place)
    watch = Watch()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"z" * 100

    opts = ExponentialRetry(attempts=3, start_timeout=0, replay_buffer=10, listeners=watch.listeners)
    headers["Idempotency-Key"] = "k"
    _, error = await call(make_driver(session), url, opts, method="POST", headers=headers, data=chunks())
    assert isinstance(error, BodyNotReplayableError)
    assert_something_was_written(caplog, watch)
    assert_no_secret(written(caplog, watch.events, error))


@pytest.mark.parametrize("place", PLACES)
async def test_circuit_open_error(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer, caplog: pytest.LogCaptureFixture, place: str
) -> None:
    """A breaker opened by failing tries refuses the next call with a CircuitOpenError that leaks nothing."""
    path = fault.script("/p", Reply(503, headers=SECRET_COOKIE))
    url, headers = where(fault, path, place)
    watch = Watch()
    breaker = CircuitBreaker(minimum_throughput=2, break_duration=60)
    opts = ExponentialRetry(attempts=3, start_timeout=0, circuit_breaker=breaker, listeners=watch.listeners)
    driver = make_driver(session)
    first, _ = await call(driver, url, opts, headers=headers)
    assert first == 503
    _, error = await call(driver, url, opts, headers=headers)
    assert isinstance(error, CircuitOpenError)
    assert_something_was_written(caplog, watch)
    assert_no_secret(written(caplog, watch.events, error))


def test_named_header_and_query_are_redacted_by_the_users_redactor() -> None:
    """A LoggingListener with Redactor(query={"token"}) hides the token and keeps other values."""
    redactor = USER_REDACTOR
    assert redactor.url("http://u:S3CRET-E@h/p?token=S3CRET-F&page=2") == "http://h/p?token=***&page=2"
    assert redactor.headers_of({"X-Api-Key": "S3CRET-G", "Cookie": "S3CRET-C", "Accept": "a"}) == {
        "X-Api-Key": "***",
        "Cookie": "***",
        "Accept": "a",
    }
