"""Engine v2 behaviour against the real fault server, through RetryClient and RetryMiddleware alike."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientError, ClientSession, TraceConfig
from yarl import URL

from aiohttp_retry import (
    CircuitBreaker,
    ExponentialRetry,
    FibonacciRetry,
    FullJitterRetry,
    GaveUp,
    JitterRetry,
    ListRetry,
    RandomRetry,
    RetryBudget,
    RetryClient,
    RetryMiddleware,
    RetryOptionsBase,
    RetryScheduled,
    RetryTimeoutError,
    StopReason,
    TryFinished,
    TryStarted,
)
from tests.drivers import ClientDriver, Driver, HttpxDriver, MiddlewareDriver
from tests.fault_server import Drop, FaultServer, Reply

NO_WAIT = ExponentialRetry(attempts=3, start_timeout=0)


@pytest.fixture
async def driver(make_driver: type[Driver]) -> AsyncIterator[Driver]:
    session = ClientSession()
    session._retry_connection = False  # no silent second try inside aiohttp: hits count tries
    async with session:
        yield make_driver(session)


def origin(fault: FaultServer) -> str:
    """The origin key of the fault server: ``127.0.0.1:<port>``."""
    url = URL(fault.base_url)
    return f"{url.host}:{url.port}"


def trace_counter() -> tuple[TraceConfig, list[Any]]:
    """A TraceConfig recording the ``trace_request_ctx`` of every request it sees start."""
    seen: list[Any] = []

    async def on_start(_: ClientSession, ctx: SimpleNamespace, __: object) -> None:
        seen.append(ctx.trace_request_ctx)

    trace = TraceConfig()
    trace.on_request_start.append(on_start)
    return trace, seen


# -- 1. Retry-After makes 413, 429 and 503 retryable ---------------------------------------------

#: The five 2.9.1-compatible classes and FullJitterRetry, each with a schedule of no wait at all,
#: so that any wait seen comes from the server's Retry-After.
ZERO_SCHEDULES: dict[str, Callable[..., RetryOptionsBase]] = {
    "ExponentialRetry": lambda **kw: ExponentialRetry(start_timeout=0, **kw),
    "RandomRetry": lambda **kw: RandomRetry(min_timeout=0, max_timeout=0, **kw),
    "ListRetry": lambda **kw: ListRetry([0, 0, 0], **kw),
    "FibonacciRetry": lambda **kw: FibonacciRetry(multiplier=0, **kw),
    "JitterRetry": lambda **kw: JitterRetry(start_timeout=0, random_interval_size=0, **kw),
    "FullJitterRetry": lambda **kw: FullJitterRetry(start_timeout=0, **kw),
}


@pytest.mark.looptime
@pytest.mark.parametrize("status", [413, 429, 503])
@pytest.mark.parametrize("options", sorted(ZERO_SCHEDULES))
async def test_retry_after_makes_a_status_retryable(
    driver: Driver, fault: FaultServer, options: str, status: int
) -> None:
    """A 413/429/503 with a valid Retry-After: 1 is retried though ``statuses`` lacks it, after >= 1 s."""
    # 503 is a server error: turn those off so that only Retry-After can make it retryable.
    opts = ZERO_SCHEDULES[options](retry_all_server_errors=status != 503)
    assert status not in opts.statuses
    path = fault.script("/busy", Reply(status, headers={"Retry-After": "1"}), 200)
    response = await driver.request("GET", fault.url(path), opts)
    assert response.status == 200
    await response.release()
    hits = fault.hits_of(path)
    assert len(hits) == 2
    assert hits[1].time - hits[0].time >= 1.0


@pytest.mark.looptime
async def test_429_without_retry_after_is_not_retried(driver: Driver, fault: FaultServer) -> None:
    """A 429 carrying no Retry-After is not in the default statuses: it is returned after one try."""
    path = fault.script("/busy", 429, 200)
    response = await driver.request("GET", fault.url(path), ExponentialRetry(start_timeout=0))
    assert response.status == 429
    await response.release()
    assert len(fault.hits) == 1


@pytest.mark.looptime
async def test_retry_after_does_not_make_post_retryable(driver: Driver, fault: FaultServer) -> None:
    """A POST answered 429 with Retry-After is not retried by FullJitterRetry: its method is not allowed."""
    path = fault.script("/busy", Reply(429, headers={"Retry-After": "1"}), 200)
    response = await driver.request("POST", fault.url(path), FullJitterRetry(start_timeout=0), data=b"x")
    assert response.status == 429
    await response.release()
    assert len(fault.hits) == 1


# -- 2. A dict is not an options object ----------------------------------------------------------


async def test_per_call_dict_options_are_a_type_error_at_call_time(fault: FaultServer) -> None:
    """``client.get(url, retry_options={...})`` raises TypeError naming retry_options, before anything is sent."""
    async with RetryClient() as client:
        for method in (client.get, client.post, client.put, client.delete):
            with pytest.raises(TypeError, match="retry_options"):
                method(fault.url("/x"), retry_options={"attempts": 5})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="retry_options"):
            client.request("GET", fault.url("/x"), retry_options={"attempts": 5})  # type: ignore[arg-type]
    assert fault.hits == []


def test_dict_options_are_a_type_error_at_construction() -> None:
    """A dict given to RetryClient or RetryMiddleware as retry_options is a TypeError naming it."""
    with pytest.raises(TypeError, match="retry_options"):
        RetryMiddleware({"attempts": 5})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="retry_options"):
        RetryClient(retry_options={"attempts": 5})  # type: ignore[arg-type]


# -- 3. The library's own timeouts name their limit ----------------------------------------------


@pytest.mark.looptime
async def test_attempt_timeout_error_names_the_limit(driver: Driver, fault: FaultServer) -> None:
    """Tries cut by attempt_timeout end in a RetryTimeoutError naming attempt_timeout, 0.5 s and 2 tries."""
    path = fault.script("/slow", Reply(200, delay=5))
    opts = ExponentialRetry(attempts=2, start_timeout=0, attempt_timeout=0.5)
    with pytest.raises(RetryTimeoutError) as info:
        await driver.request("GET", fault.url(path), opts)
    error = info.value
    assert isinstance(error, asyncio.TimeoutError)
    assert "attempt_timeout" in str(error)
    assert "0.5" in str(error)
    assert "2 tries" in str(error)
    assert (error.limit, error.seconds, error.tries) == ("attempt_timeout", 0.5, 2)
    assert len(fault.hits) == 2


@pytest.mark.looptime
async def test_total_timeout_error_names_the_limit(driver: Driver, fault: FaultServer) -> None:
    """A call cut by total_timeout ends in a RetryTimeoutError naming total_timeout; still a TimeoutError."""
    path = fault.script("/slow", Reply(200, delay=5))
    opts = ExponentialRetry(attempts=3, start_timeout=0, total_timeout=0.5)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(asyncio.TimeoutError) as info:
        await driver.request("GET", fault.url(path), opts)
    assert loop.time() - start == pytest.approx(0.5, abs=0.01)
    assert isinstance(info.value, RetryTimeoutError)
    assert "total_timeout" in str(info.value)
    assert info.value.limit == "total_timeout"


# -- 4. Draining a discarded body is bounded by the deadline -------------------------------------


async def _call_ending_in_anything(driver: Driver, url: str, opts: RetryOptionsBase) -> float:
    """Run one call, whatever it ends with; return how long it took on the loop clock."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    with contextlib.suppress(ClientError, asyncio.TimeoutError):
        response = await driver.request("GET", url, opts)
        await response.release()
    return loop.time() - start


@pytest.mark.looptime
async def test_draining_a_slow_error_body_stops_at_the_deadline(driver: Driver, fault: FaultServer) -> None:
    """A 503 whose body comes 3 s after its headers is drained no longer than total_timeout allows."""
    path = fault.script("/late-body", Reply(503, b"x", body_delay=3))
    opts = ExponentialRetry(attempts=3, start_timeout=0, total_timeout=0.3)
    took = await _call_ending_in_anything(driver, fault.url(path), opts)
    assert took <= 0.3 + 0.05


@pytest.mark.looptime
async def test_no_backoff_after_a_drain_that_reached_the_deadline(driver: Driver, fault: FaultServer) -> None:
    """With the default 0.1 s backoff, a drain cut at total_timeout=0.3 ends the call then, not 0.1 s later."""
    path = fault.script("/late-body", Reply(503, b"x", body_delay=3))
    events: list[Any] = []
    opts = ExponentialRetry(attempts=3, total_timeout=0.3, listeners=[events.append])
    took = await _call_ending_in_anything(driver, fault.url(path), opts)
    assert took <= 0.3 + 0.05
    # No try starts after the deadline.
    assert [e.attempt for e in events if isinstance(e, TryStarted)] == [1]
    assert len(fault.hits) == 1


# -- 5. An Idempotency-Key among the session's default headers -----------------------------------


@pytest.mark.parametrize("first", [Drop(), Reply(503)], ids=["drop", "503"])
async def test_session_default_idempotency_key_makes_post_retryable(
    make_driver: type[Driver], fault: FaultServer, first: Drop | Reply
) -> None:
    """A POST is retried after a dropped connection or a 5xx when the session sends Idempotency-Key by default."""
    path = fault.script("/pay", first, 200)
    async with ClientSession(headers={"Idempotency-Key": "k"}) as session:
        session._retry_connection = False
        driver = make_driver(session)
        response = await driver.request("POST", fault.url(path), FullJitterRetry(start_timeout=0), data=b"x")
        assert response.status == 200
        await response.release()
    assert [h.headers.get("Idempotency-Key") for h in fault.hits] == ["k", "k"]


# -- 6. Relative URLs are keyed by the real origin -----------------------------------------------


async def test_relative_urls_are_keyed_by_the_session_base_url(make_driver: type[Driver], fault: FaultServer) -> None:
    """Over ClientSession(base_url=...), a relative URL's budget and breaker key is 127.0.0.1:<port>, not ""."""
    path = fault.script("/down", 503)
    events: list[Any] = []
    opts = ExponentialRetry(attempts=2, start_timeout=0, listeners=[events.append])
    async with ClientSession(base_url=fault.base_url) as session:
        response = await make_driver(session).request("GET", path, opts)
        assert response.status == 503
        await response.release()
    keyed = [e for e in events if isinstance(e, (TryStarted, GaveUp))]
    assert [type(e) for e in keyed] == [TryStarted, TryStarted, GaveUp]
    assert {e.key for e in keyed} == {origin(fault)}


async def test_relative_url_key_with_a_breaker_only(fault: FaultServer) -> None:
    """With the budget off and a breaker on, RetryClient still keys a relative URL by the base URL's origin."""
    path = fault.script("/down", 503)
    events: list[Any] = []
    async with ClientSession(base_url=fault.base_url) as session:
        client = RetryClient(
            session,
            retry_options=NO_WAIT,
            retry_budget=None,
            circuit_breaker=CircuitBreaker(),
            listeners=[events.append],
        )
        async with client.get(path) as response:
            assert response.status == 503
    assert {e.key for e in events if isinstance(e, (TryStarted, GaveUp))} == {origin(fault)}


# -- 7. Every try is visible: TraceConfig for RetryClient, events for the middleware --------------


async def test_every_try_is_visible(make_driver: type[Driver], fault: FaultServer) -> None:
    """Both adapters emit TryStarted for tries 1..3; TraceConfig sees 3 requests via RetryClient, 1 via middleware."""
    path = fault.script("/flaky", 503, 502, 200)
    trace, seen = trace_counter()
    events: list[Any] = []
    opts = ExponentialRetry(attempts=3, start_timeout=0, listeners=[events.append])
    async with ClientSession(trace_configs=[trace]) as session:
        response = await make_driver(session).request("GET", fault.url(path), opts)
        assert response.status == 200
        await response.release()
    assert [(e.attempt, e.attempts) for e in events if isinstance(e, TryStarted)] == [(1, 3), (2, 3), (3, 3)]
    finished = [e for e in events if isinstance(e, TryFinished)]
    assert [(e.status, e.final) for e in finished] == [(503, False), (502, False), (200, True)]
    assert len(fault.hits) == 3
    if make_driver is MiddlewareDriver:
        assert len(seen) == 1
    elif make_driver is ClientDriver:
        assert [ctx["current_attempt"] for ctx in seen] == [1, 2, 3]
    else:  # httpx: the aiohttp session's trace hooks are not on its path; the events above are
        assert seen == []


# -- 8. Listeners on the client, the middleware and the call -------------------------------------


async def test_client_and_call_listeners_both_receive_events(fault: FaultServer) -> None:
    """A per-call listener adds to the client's: both see every event of the call, in the same order."""
    path = fault.script("/flaky", 503, 200)
    client_events: list[Any] = []
    call_events: list[Any] = []
    async with RetryClient(retry_options=NO_WAIT, listeners=[client_events.append]) as client:
        opts = ExponentialRetry(start_timeout=0, listeners=[call_events.append])
        async with client.get(fault.url(path), retry_options=opts) as response:
            assert response.status == 200
        assert len(client_events) == len(call_events)
        async with client.get(fault.url("/ok")):  # the client's listener alone, for a call without its own
            pass
    assert call_events
    assert client_events[: len(call_events)] == call_events
    assert [type(e) for e in call_events] == [TryStarted, TryFinished, RetryScheduled, TryStarted, TryFinished]
    assert [type(e) for e in client_events[len(call_events) :]] == [TryStarted, TryFinished]


async def test_middleware_and_call_listeners_both_receive_events(fault: FaultServer) -> None:
    """A listener on RetryMiddleware and one in its options both see every event of the call."""
    path = fault.script("/flaky", 503, 200)
    middleware_events: list[Any] = []
    option_events: list[Any] = []
    opts = ExponentialRetry(start_timeout=0, listeners=[option_events.append])
    middleware = RetryMiddleware(opts, listeners=[middleware_events.append])
    async with ClientSession(middlewares=[middleware]) as session, session.get(fault.url(path)) as response:
        assert response.status == 200
    assert option_events
    assert middleware_events == option_events
    assert [e.attempt for e in option_events if isinstance(e, TryStarted)] == [1, 2]


# -- 9. The retry budget under a full outage -----------------------------------------------------


async def test_budget_spent_under_an_outage(fault: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    """200 calls to an always-503 path: some give up with BUDGET_SPENT, each with a WARNING saying so."""
    path = fault.script("/down", 503)
    gave_up: list[GaveUp] = []

    def listen(event: object) -> None:
        if isinstance(event, GaveUp):
            gave_up.append(event)

    caplog.set_level(logging.WARNING, logger="aiohttp_retry")
    client = RetryClient(
        retry_options=ExponentialRetry(attempts=4, start_timeout=0),
        retry_budget=RetryBudget(ratio=0.1, min_per_second=1, window=10),
        listeners=[listen],
    )
    async with client:
        for _ in range(200):
            async with client.get(fault.url(path)) as response:
                assert response.status == 503
    spent = [e for e in gave_up if e.reason is StopReason.BUDGET_SPENT]
    assert len(gave_up) == 200
    assert 0 < len(spent) < 200
    # The reserve (10) and 10 % of 200 calls allow about 30 retries in all; without a budget there would be 600.
    assert len(fault.hits) < 200 + 40
    warned = [
        r for r in caplog.records if r.name == "aiohttp_retry" and r.levelno == logging.WARNING
        and "budget spent" in r.getMessage()
    ]  # fmt: skip
    assert len(warned) == len(spent)


# -- 10. Time limits on the success path ---------------------------------------------------------


async def test_limits_and_breaker_keep_success_to_one_try(make_driver: type[Driver], fault: FaultServer) -> None:
    """With total_timeout and a CircuitBreaker, a good answer is one try: one TraceConfig request, one hit."""
    trace, seen = trace_counter()
    events: list[Any] = []
    opts = ExponentialRetry(total_timeout=5, circuit_breaker=CircuitBreaker(), listeners=[events.append])
    async with ClientSession(trace_configs=[trace]) as session:
        response = await make_driver(session).request("GET", fault.url("/ok"), opts)
        assert response.status == 200
        assert await response.read() == b"ok"
    assert len(seen) == (0 if make_driver is HttpxDriver else 1)
    assert len(fault.hits) == 1
    assert [type(e) for e in events] == [TryStarted, TryFinished]
    assert events[1].final


with warnings.catch_warnings():  # aiohttp discourages subclassing ClientSession; users still do it
    warnings.simplefilter("ignore", DeprecationWarning)

    class TimeoutRecordingSession(ClientSession):
        """A session that records the ``timeout=`` each request is sent with."""

        def __init__(self) -> None:
            super().__init__()
            self.timeouts: list[Any] = []

        def request(self, method: str, url: Any, **kwargs: Any) -> Any:
            self.timeouts.append(kwargs.get("timeout"))
            return super().request(method, url, **kwargs)


@pytest.mark.looptime
async def test_attempt_timeout_is_aiohttps_request_timeout(fault: FaultServer) -> None:
    """RetryClient hands attempt_timeout to aiohttp as the try's ClientTimeout.total; a slow try is cut there."""
    path = fault.script("/slow", Reply(200, delay=5))
    opts = ExponentialRetry(attempts=1, attempt_timeout=0.5)
    loop = asyncio.get_running_loop()
    session = TimeoutRecordingSession()
    async with session:
        client = RetryClient(session, retry_options=opts)
        start = loop.time()
        with pytest.raises(RetryTimeoutError, match="attempt_timeout"):
            await client.get(fault.url(path))
        assert loop.time() - start == pytest.approx(0.5, abs=0.01)
    assert [t.total for t in session.timeouts] == [0.5]
