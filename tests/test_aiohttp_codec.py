"""The aiohttp codec: error kinds, the library's timer, try timeouts, and the route a try takes."""

from __future__ import annotations

import asyncio
import math
import ssl

import pytest
from aiohttp import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientOSError,
    ClientPayloadError,
    ClientSession,
    ClientTimeout,
    ConnectionTimeoutError,
    ServerDisconnectedError,
    ServerTimeoutError,
    TraceConfig,
)

from aiohttp_retry.aiohttp_codec import AIOHTTP_CODEC, route_of, try_timeout, within
from aiohttp_retry.policy.stop import ErrorKind


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ClientConnectorError(None, OSError(111, "refused")), ErrorKind.CONNECT),  # type: ignore[arg-type]
        (ConnectionTimeoutError(), ErrorKind.CONNECT),
        (ClientConnectorCertificateError(None, ssl.SSLCertVerificationError("bad")), ErrorKind.TLS),  # type: ignore[arg-type]
        (ServerTimeoutError(), ErrorKind.TIMEOUT),
        (asyncio.TimeoutError(), ErrorKind.TIMEOUT),
        (ServerDisconnectedError(), ErrorKind.TRANSPORT),
        (ClientOSError(104, "reset"), ErrorKind.TRANSPORT),
        (ClientPayloadError(), ErrorKind.OTHER),
        (ValueError(), ErrorKind.OTHER),
    ],
)
def test_error_kinds(error: Exception, kind: ErrorKind) -> None:
    """Each aiohttp failure maps to the kind the engine decides on; a connect that timed out sent nothing."""
    assert AIOHTTP_CODEC.error_kind(error) is kind


@pytest.mark.looptime
async def test_within_raises_timeout_when_the_time_runs_out() -> None:
    """The library's own timer cuts a slow awaitable at the limit with a TimeoutError, not a cancellation."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        await within(asyncio.sleep(10), 0.5)
    assert loop.time() - started == pytest.approx(0.5)
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


@pytest.mark.looptime
async def test_within_returns_the_result_and_cancels_its_timer() -> None:
    """A fast awaitable's result comes back, and no timer of the library is left to fire later."""

    async def quick() -> str:
        await asyncio.sleep(0.1)
        return "done"

    assert await within(quick(), 5) == "done"
    await asyncio.sleep(10)  # a timer left behind would cancel this task now
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


@pytest.mark.looptime
async def test_within_lets_the_callers_cancellation_through() -> None:
    """Cancelling the caller while within() waits raises CancelledError, not TimeoutError."""
    task = asyncio.ensure_future(within(asyncio.sleep(10), 5))
    await asyncio.sleep(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _timed(seconds: float, work: float) -> tuple[str, float]:
    """Run within(sleep(work), seconds) in a task of its own: how it ended, and at what loop time."""
    loop = asyncio.get_running_loop()
    try:
        await within(asyncio.sleep(work), seconds)
    except TimeoutError:
        return "timeout", loop.time()
    return "done", loop.time()


@pytest.mark.looptime
async def test_many_limits_share_one_timer_and_each_fires_on_time() -> None:
    """Tries that start one after another with the same limit each time out at their own moment."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    for _ in range(3):
        tasks.append(asyncio.ensure_future(_timed(1.0, 5)))
        await asyncio.sleep(0.1)
    ended = await asyncio.gather(*tasks)
    assert [(how, round(at - start, 3)) for how, at in ended] == [("timeout", 1.0), ("timeout", 1.1), ("timeout", 1.2)]


@pytest.mark.looptime
async def test_a_limit_shorter_than_the_last_queued_fires_on_its_own_time() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    long = asyncio.ensure_future(_timed(2.0, 5))
    await asyncio.sleep(0)
    short = asyncio.ensure_future(_timed(0.5, 5))
    assert [(how, round(at - start, 3)) for how, at in await asyncio.gather(long, short)] == [
        ("timeout", 2.0),
        ("timeout", 0.5),
    ]


@pytest.mark.looptime
async def test_finished_tries_never_fire_and_later_ones_still_do() -> None:
    """A try done before its limit leaves nothing behind, also when later tries queue behind it."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    first = await _timed(1.0, 0.1)
    second = asyncio.ensure_future(_timed(1.0, 5))
    third = asyncio.ensure_future(_timed(3.0, 0.5))
    assert first[0] == "done"
    assert [(how, round(at - start, 3)) for how, at in await asyncio.gather(second, third)] == [
        ("timeout", 1.1),
        ("done", 0.6),
    ]
    await asyncio.sleep(5)  # a timer of a finished try would cancel this task now
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


def test_a_loop_that_takes_no_attribute_has_no_shared_queue() -> None:
    from aiohttp_retry.aiohttp_codec import _expiries_of  # noqa: PLC0415

    assert _expiries_of(object()) is None  # type: ignore[arg-type] # within() then gives each try a timer


def test_try_timeout_shortens_only_the_total() -> None:
    """A try's time becomes the request's total; the session's other limits stay; a stricter base is kept."""
    base = ClientTimeout(total=300, sock_read=7, sock_connect=3)
    timeout = try_timeout(base, 2.5)
    assert timeout is not None
    assert (timeout.total, timeout.sock_read, timeout.sock_connect) == (2.5, 7, 3)
    assert timeout.ceil_threshold == math.inf  # aiohttp must not round 2.5 s up to a whole second
    assert try_timeout(ClientTimeout(total=1), 2.5) is None
    assert try_timeout(None, 0).total == pytest.approx(1e-6)  # type: ignore[union-attr]  # 0 means "no limit" to aiohttp


async def test_route_skips_trace_context_only_without_trace_configs() -> None:
    """aiohttp's own route reads trace_request_ctx only for trace configs; with them, or overridden, it is sent."""
    async with ClientSession() as plain, ClientSession(trace_configs=[TraceConfig()]) as traced:
        request, needs_trace = route_of(plain)
        assert request == plain._request
        assert not needs_trace
        assert route_of(traced)[1]

        with pytest.warns(DeprecationWarning, match="discouraged"):  # aiohttp's word on subclassing

            class Overridden(ClientSession):
                def request(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
                    return super().request(*args, **kwargs)  # type: ignore[arg-type]

        async with Overridden() as custom:
            request, needs_trace = route_of(custom)
            assert request == custom.request
            assert needs_trace
