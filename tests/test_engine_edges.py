"""Regression tests for the edge cases a review found: each pins one fixed behaviour of the engine or the client."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import ClientSession, ClientTimeout, TraceConfig, TraceRequestStartParams, web
from multidict import CIMultiDict
from pytest_aiohttp.plugin import AiohttpServer

from aiohttp_retry import (
    CircuitBreaker,
    ExponentialRetry,
    Hedging,
    RetryClient,
    RetryMiddleware,
    RetryTimeoutError,
    StopReason,
)
from aiohttp_retry.aiohttp_codec import within
from aiohttp_retry.events import GaveUp, RetryScheduled, TryFinished, TryStarted
from aiohttp_retry.policy.breaker import Permit
from tests.fault_server import FaultServer, Reply
from tests.memory_transport import (
    KEY,
    ConnectFailed,
    Delay,
    FakeClock,
    HttpError,
    MemoryExchange,
    MemoryResponse,
    Recorder,
    collect,
    drive,
)


def options(*, hedge: bool = False, attempts: int = 3, **common: Any) -> ExponentialRetry:
    """Options with no backoff and no budget; with ``hedge``, a hedge every 0.1 s."""
    return ExponentialRetry(
        attempts=attempts,
        start_timeout=0,
        hedging=Hedging(delay=0.1) if hedge else None,
        retry_budget=None,
        **common,
    )


def balanced(seen: Recorder) -> None:
    """Every try that started finished exactly once, and the call ended once: a final TryFinished or a GaveUp."""
    started = sorted(event.attempt for event in seen.of(TryStarted))
    finished = sorted(event.attempt for event in seen.of(TryFinished))
    assert started == finished, seen.kinds()
    ends = sum(event.final for event in seen.of(TryFinished)) + len(seen.of(GaveUp))
    assert ends == 1, seen.kinds()


class Traces:
    """A TraceConfig that records the trace context of every try and can hold up try 1's start."""

    def __init__(self, first_waits: float = 0.0) -> None:
        self.contexts: list[Any] = []
        self.first_waits = first_waits
        self.config = TraceConfig()
        self.config.on_request_start.append(self._on_start)

    async def _on_start(self, _: ClientSession, ctx: SimpleNamespace, __: TraceRequestStartParams) -> None:
        trace = ctx.trace_request_ctx
        self.contexts.append(trace)
        if self.first_waits and isinstance(trace, Mapping) and trace.get("current_attempt") == 1:
            await asyncio.sleep(self.first_waits)  # a slow DNS lookup or pool wait on try 1


# -- 1. the sequential loop wakes after the deadline ---------------------------------------------------


@pytest.mark.parametrize(
    ("first", "raised"), [(503, RetryTimeoutError), (ConnectFailed, ConnectFailed)], ids=["response", "error"]
)
async def test_no_try_starts_after_the_deadline_when_the_loop_wakes_late(first: Any, raised: type[Exception]) -> None:
    """A loop blocked past the deadline during the backoff starts no further try: GaveUp(DEADLINE), last outcome."""
    loop = asyncio.get_running_loop()
    hogs: list[asyncio.Task[None]] = []

    async def hog() -> None:
        time.sleep(0.15)  # another task holds the loop while the call sleeps, past its deadline  # noqa: ASYNC251

    def block_during_backoff(event: object) -> None:
        if isinstance(event, RetryScheduled):
            hogs.append(loop.create_task(hog()))  # runs once the call is asleep in its backoff

    listeners, seen = collect(extra=[block_during_backoff])
    opts = ExponentialRetry(attempts=3, start_timeout=0.02, factor=1, total_timeout=0.1, retry_budget=None)
    exchange = MemoryExchange([first() if isinstance(first, type) else first, 200, 200])
    with pytest.raises(raised):
        await drive(opts, exchange, listeners=listeners)
    await asyncio.gather(*hogs)
    assert len(hogs) == 1
    assert [sent.attempt for sent in exchange.sends] == [1]
    assert seen.one(GaveUp).reason is StopReason.DEADLINE


# -- 2. a one-shot streamed body is never hedged ----------------------------------------------------------


@pytest.mark.looptime
async def test_hedged_one_shot_stream_is_never_sent_twice_at_once(fault: FaultServer) -> None:
    """A streamed body longer than replay_buffer is not hedged: the server gets it whole, once, never cut."""
    path = fault.script("/put", Reply(200, delay=0.3))  # slow answers: a hedge would overlap try 1
    chunk, count = b"x" * 1024, 10

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk
            await asyncio.sleep(0)

    traces = Traces(first_waits=0.2)  # try 1 starts late: a hedge would fire while it waits
    opts = ExponentialRetry(
        attempts=3, start_timeout=0, hedging=Hedging(delay=0.05), replay_buffer=1024, retry_budget=None
    )
    async with ClientSession(trace_configs=[traces.config]) as session:
        client = RetryClient(session, retry_options=opts)
        outcome: Any
        try:
            async with client.put(fault.url(path), data=stream()) as response:
                outcome = response.status
        except Exception as error:
            outcome = error
    assert [len(hit.body) for hit in fault.hits_of(path)] == [count * len(chunk)]
    assert outcome == 200


# -- 3. a hedged try whose send raises at once gives its permit back ------------------------------------


class RaisingExchange(MemoryExchange):
    """An exchange whose ``send`` raises before any coroutine exists."""

    def send(self, attempt: int, time_left: float | None) -> Any:  # noqa: ARG002
        msg = "the try cannot be built"
        raise TypeError(msg)


@pytest.mark.looptime
@pytest.mark.parametrize("hedge", [False, True], ids=["sequential", "hedged"])
async def test_send_raising_at_once_gives_the_breaker_probe_back(hedge: bool) -> None:
    """A probe whose send raises synchronously is accounted for: the breaker admits tries again later."""
    clock = FakeClock()
    breaker = CircuitBreaker(minimum_throughput=1, failure_ratio=0.5, break_duration=1, clock=clock)
    breaker.record(KEY, breaker.acquire(KEY), failed=True)  # type: ignore[arg-type]
    assert breaker.state(KEY) == "open"
    clock.advance(2)  # the break is over: the next try is the half-open probe
    listeners, seen = collect()
    with pytest.raises(TypeError):
        await drive(options(hedge=hedge), RaisingExchange([]), listeners=listeners, breaker=breaker)
    clock.advance(2)  # past any new break the probe's outcome may have started
    assert isinstance(breaker.acquire(KEY), Permit), "the probe's permit was never given back"
    assert seen.one(GaveUp).reason is StopReason.NOT_RETRYABLE
    balanced(seen)


@pytest.mark.looptime
@pytest.mark.parametrize("hedge", [False, True], ids=["sequential", "hedged"])
async def test_trace_context_that_is_no_mapping_passes_through(fault: FaultServer, hedge: bool) -> None:
    """A trace_request_ctx that is no mapping reaches the TraceConfig as given, and the call succeeds."""
    path = fault.script("/t", 503, 200)
    context = SimpleNamespace(user=1)
    traces = Traces()
    async with ClientSession(trace_configs=[traces.config]) as session:
        client = RetryClient(session, retry_options=options(hedge=hedge))
        async with client.get(fault.url(path), trace_request_ctx=context) as response:
            assert response.status == 200
    assert len(traces.contexts) == 2
    assert all(seen is context for seen in traces.contexts)


# -- 4. headers as (name, value) pairs and repeated headers -------------------------------------------


@pytest.mark.looptime
@pytest.mark.parametrize(
    ("defaults", "common", "expected"),
    [
        (None, {}, {"X-A": "1"}),
        ({"X-Default": "d"}, {}, {"X-A": "1", "X-Default": "d"}),
        (None, {"total_timeout": 5, "propagate_timeout": True}, {"X-A": "1"}),
        ({"X-Default": "d"}, {"total_timeout": 5, "propagate_timeout": True}, {"X-A": "1", "X-Default": "d"}),
    ],
    ids=["plain", "session-defaults", "propagate", "defaults-and-propagate"],
)
async def test_headers_as_pairs_on_a_retried_call(
    fault: FaultServer, defaults: dict[str, str] | None, common: dict[str, Any], expected: dict[str, str]
) -> None:
    """headers=[(name, value)] works on every try, with session default headers and with propagate_timeout."""
    path = fault.script("/h", 503, 200)
    async with ClientSession(headers=defaults) as session:
        client = RetryClient(session, retry_options=options(attempts=2, **common))
        async with client.get(fault.url(path), headers=[("X-A", "1")]) as response:
            assert response.status == 200
    hits = fault.hits_of(path)
    assert len(hits) == 2
    for hit in hits:
        assert {name: hit.headers.get(name) for name in expected} == expected
        assert ("X-Request-Timeout" in hit.headers) is bool(common)


@pytest.mark.looptime
async def test_repeated_header_keeps_every_value_with_propagate_timeout(aiohttp_server: AiohttpServer) -> None:
    """A CIMultiDict with a repeated header sends every value, beside X-Request-Timeout."""
    received: list[tuple[list[str], str | None]] = []

    async def handler(request: web.Request) -> web.Response:
        received.append((request.headers.getall("X-Tag", []), request.headers.get("X-Request-Timeout")))
        return web.Response(status=503 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_get("/m", handler)
    server = await aiohttp_server(app)
    headers = CIMultiDict([("X-Tag", "a"), ("X-Tag", "b")])
    opts = options(attempts=2, total_timeout=5, propagate_timeout=True)
    async with (
        RetryClient(retry_options=opts) as client,
        client.get(server.make_url("/m"), headers=headers) as response,
    ):
        assert response.status == 200
    assert [tags for tags, _ in received] == [["a", "b"], ["a", "b"]]
    assert all(timeout is not None for _, timeout in received)
    assert headers.getall("X-Tag") == ["a", "b"]  # the caller's headers are not modified


# -- 5. timeout=None per call ----------------------------------------------------------------------------


@pytest.mark.looptime
async def test_per_call_timeout_none_keeps_attempt_timeout(fault: FaultServer) -> None:
    """timeout=None lifts the session's 0.3 s limit, not the library's: attempt_timeout=0.5 cuts the try."""
    path = fault.script("/slow", Reply(200, delay=1.5))
    loop = asyncio.get_running_loop()
    async with ClientSession(timeout=ClientTimeout(total=0.3)) as session:
        client = RetryClient(session, retry_options=options(attempts=1, attempt_timeout=0.5))
        began = loop.time()
        with pytest.raises(RetryTimeoutError):
            await client.get(fault.url(path), timeout=None)
        assert loop.time() - began == pytest.approx(0.5, abs=0.05)
    assert len(fault.hits_of(path)) == 1


# -- 6. GaveUp once per call ------------------------------------------------------------------------------


@pytest.mark.looptime
@pytest.mark.parametrize("hedge", [False, True], ids=["sequential", "hedged"])
async def test_gave_up_once_when_cancelled_in_the_final_check(hedge: bool) -> None:
    """A call that gave up and is then cancelled in its async raise_for_status emits one GaveUp."""

    async def finish(_: MemoryResponse) -> None:
        await asyncio.sleep(10)  # an async raise_for_status, e.g. one reading the error body

    exchange = MemoryExchange([Delay(0.01, 503), Delay(0.01, 503)], finish=finish)
    listeners, seen = collect()
    task = asyncio.create_task(drive(options(hedge=hedge, attempts=2), exchange, listeners=listeners))
    await asyncio.sleep(0.2)
    assert len(seen.of(GaveUp)) == 1  # the call gave up, and is now in its final check
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [event.reason for event in seen.of(GaveUp)] == [StopReason.LAST_TRY]


# -- 7. cancelled tries finish in events ------------------------------------------------------------------


@pytest.mark.looptime
@pytest.mark.parametrize(
    ("script", "hedge", "final"),
    [
        ([Delay(10)], False, False),
        ([503, Delay(10)], False, False),
        ([Delay(10), Delay(10)], True, None),
    ],
    ids=["fast-path", "sequential-loop", "hedged"],
)
async def test_cancelled_try_emits_try_finished(script: list[Any], hedge: bool, final: bool | None) -> None:
    """A try cut by the caller's cancellation ends with a TryFinished carrying the CancelledError, then GaveUp."""
    listeners, seen = collect()
    exchange = MemoryExchange(script)
    task = asyncio.create_task(drive(options(hedge=hedge), exchange, listeners=listeners))
    await asyncio.sleep(0.15)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    balanced(seen)
    cut = [event for event in seen.of(TryFinished) if event.error is not None]
    assert cut
    assert all(isinstance(event.error, asyncio.CancelledError) for event in cut)
    if final is not None:
        assert [event.final for event in cut] == [final]
    assert seen.one(GaveUp).reason is StopReason.CANCELLED


@pytest.mark.looptime
async def test_hedged_loser_emits_try_finished_not_final() -> None:
    """The hedged try that lost is cancelled and reported finished with a CancelledError, final=False."""
    listeners, seen = collect()
    exchange = MemoryExchange([Delay(1), Delay(0.2)])
    response = await drive(options(hedge=True, attempts=2), exchange, listeners=listeners)
    assert response.attempt == 2
    balanced(seen)
    by_attempt = {event.attempt: event for event in seen.of(TryFinished)}
    assert isinstance(by_attempt[1].error, asyncio.CancelledError)
    assert by_attempt[1].final is False
    assert (by_attempt[2].status, by_attempt[2].final) == (200, True)
    assert not seen.of(GaveUp)


@pytest.mark.looptime
async def test_fast_path_cancelled_in_finish_gives_up_cancelled() -> None:
    """A try-1 answer whose async raise_for_status is cancelled ends the call with GaveUp(CANCELLED)."""

    async def finish(_: MemoryResponse) -> None:
        await asyncio.sleep(10)

    listeners, seen = collect()
    task = asyncio.create_task(drive(options(), MemoryExchange([200], finish=finish), listeners=listeners))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen.one(GaveUp).reason is StopReason.CANCELLED
    balanced(seen)
    last = seen.one(TryFinished)
    assert isinstance(last.error, asyncio.CancelledError)
    assert last.final is False  # the call gave up: GaveUp ends it


# -- 8. within() withdraws the cancellation it caused --------------------------------------------------


async def _swallows() -> str:
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        return "swallowed"  # a cleanup path that completes instead of re-raising
    return "done"


async def _converts() -> str:
    try:
        await asyncio.sleep(1)
    except asyncio.CancelledError:
        msg = "converted"
        raise ConnectionResetError(msg) from None
    return "done"


@pytest.mark.looptime
@pytest.mark.parametrize("awaitable", [_swallows, _converts], ids=["swallows", "converts"])
async def test_within_withdraws_a_cancellation_the_awaitable_did_not_raise(awaitable: Callable[[], Any]) -> None:
    """After within()'s timer fires into an awaitable that swallows or converts it, nothing is left pending."""
    if sys.version_info < (3, 11):  # pragma: no cover - within() is asyncio.wait_for there
        pytest.skip("asyncio.timeout and Task.cancelling are Python 3.11+")

    async def caller() -> tuple[int, str]:
        task = asyncio.current_task()
        assert task is not None
        left = -1
        try:
            async with asyncio.timeout(0.1):  # the caller's own deadline around a call that uses within()
                with contextlib.suppress(ConnectionResetError):
                    await within(awaitable(), 0.01)
                left = task.cancelling()
                await asyncio.sleep(1)  # the caller's deadline fires here
        except TimeoutError:
            return left, "TimeoutError"
        except asyncio.CancelledError:
            return left, "CancelledError"
        return left, "no timeout"

    assert await asyncio.create_task(caller()) == (0, "TimeoutError")


# -- 9. the breaker forgets never-failed keys first ------------------------------------------------------


def test_breaker_keeps_an_open_circuit_over_new_healthy_keys() -> None:
    """With max_keys=2, an open circuit is not forgotten to make room for keys that never failed."""
    clock = FakeClock()
    breaker = CircuitBreaker(failure_ratio=0.5, minimum_throughput=2, break_duration=30, max_keys=2, clock=clock)
    for _ in range(2):
        breaker.record("bad", breaker.acquire("bad"), failed=True)  # type: ignore[arg-type]
    assert breaker.state("bad") == "open"
    for key in ("good1", "good2"):
        clock.advance(1)
        breaker.record(key, breaker.acquire(key), failed=False)  # type: ignore[arg-type]
    refused = breaker.acquire("bad")
    assert not isinstance(refused, Permit)
    assert refused > 0
    assert breaker.state("bad") == "open"


# -- 10. argument errors name the type, not the value ----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "secret"),
    [
        (lambda client: client.get(b"http://alice:s3cret@h.test/"), "s3cret"),
        (lambda client: client.post("http://h.test/login", {"user": "u", "password": "hunter2"}), "hunter2"),
        (lambda _: RetryMiddleware({"password": "hunter2"}), "hunter2"),  # type: ignore[arg-type]
    ],
    ids=["bytes-url", "dict-retry-options", "middleware-dict-options"],
)
async def test_argument_errors_do_not_show_the_value(make: Callable[[RetryClient], Any], secret: str) -> None:
    """A wrong argument's error names its type and leaks none of its contents."""
    async with RetryClient() as client:
        with pytest.raises((TypeError, ValueError)) as caught:
            make(client)
    text = f"{caught.value} {caught.value!r}"
    assert secret not in text
    assert "alice" not in text
    assert ("bytes" in text) or ("dict" in text)


# -- 11. a hedged winner rejected by raise_for_status -------------------------------------------------------


@pytest.mark.looptime
async def test_hedged_winner_rejected_by_raise_for_status_gives_up() -> None:
    """When raise_for_status rejects the hedged winner, the call emits GaveUp(NOT_RETRYABLE) and raises."""

    async def finish(_: MemoryResponse) -> None:
        raise HttpError(404)

    listeners, seen = collect()
    exchange = MemoryExchange([Delay(0.01, 200)], finish=finish)
    with pytest.raises(HttpError) as caught:
        await drive(options(hedge=True), exchange, listeners=listeners)
    gave_up = seen.one(GaveUp)
    assert gave_up.reason is StopReason.NOT_RETRYABLE
    assert gave_up.error is caught.value
    balanced(seen)
