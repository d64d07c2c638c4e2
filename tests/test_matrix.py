"""Behaviour shared by RetryClient, RetryMiddleware and the httpx RetryTransport: every test here runs through each."""

from __future__ import annotations

import asyncio
import email.utils
import io
import itertools
import socket
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from aiohttp import ClientSession, TraceConfig, payload

from aiohttp_retry import BodyNotReplayableError, ExponentialRetry, FullJitterRetry, RetryAfter, RetryClient
from aiohttp_retry.events import TryFinished
from aiohttp_retry.policy.stop import ErrorKind
from tests.drivers import Driver, HttpxDriver, MiddlewareDriver, one_connection
from tests.fault_server import Drop, FaultServer, Reply

NO_WAIT = ExponentialRetry(attempts=3, start_timeout=0)


@pytest.fixture
async def driver(make_driver: type[Driver]) -> AsyncIterator[Driver]:
    session = ClientSession()
    # As aiohttp's own TestClient does: no silent second try inside aiohttp, so hits count tries.
    session._retry_connection = False
    async with session:
        yield make_driver(session)


def gaps(fault: FaultServer) -> list[float]:
    times = [h.time for h in fault.hits]
    return [round(b - a, 3) for a, b in itertools.pairwise(times)]


async def test_server_errors_are_retried(driver: Driver, fault: FaultServer) -> None:
    """5xx answers are retried until a good one arrives."""
    path = fault.script("/flaky", 503, 502, 200)
    response = await driver.request("GET", fault.url(path), NO_WAIT)
    assert response.status == 200
    await response.release()
    assert len(fault.hits) == 3


async def test_last_response_is_returned(driver: Driver, fault: FaultServer) -> None:
    """When all tries fail, the last response is returned with its body."""
    path = fault.script("/down", Reply(500, b"broken"))
    response = await driver.request("GET", fault.url(path), NO_WAIT)
    assert response.status == 500
    assert await response.read() == b"broken"
    assert len(fault.hits) == 3


async def test_safe_defaults_do_not_retry_post(driver: Driver, fault: FaultServer) -> None:
    """The new option classes retry idempotent methods only: a POST is sent once."""
    path = fault.script("/post", 503, 200)
    response = await driver.request("POST", fault.url(path), FullJitterRetry(start_timeout=0), data=b"x")
    assert response.status == 503
    await response.release()
    assert len(fault.hits) == 1


async def test_idempotency_key_makes_post_retryable(driver: Driver, fault: FaultServer) -> None:
    """A POST carrying Idempotency-Key is retried, on statuses and on dropped connections."""
    path = fault.script("/pay", 503, Drop(), 200)
    opts = FullJitterRetry(start_timeout=0)
    response = await driver.request("POST", fault.url(path), opts, data=b"x", headers={"Idempotency-Key": "k1"})
    assert response.status == 200
    await response.release()
    assert [h.headers["Idempotency-Key"] for h in fault.hits] == ["k1"] * 3


async def test_dropped_post_is_not_retried(driver: Driver, fault: FaultServer) -> None:
    """A POST whose connection drops after sending may have taken effect: it is not retried."""
    path = fault.script("/charge", Drop(), 200)
    with pytest.raises(driver.disconnected):
        await driver.request("POST", fault.url(path), NO_WAIT, data=b"x")
    assert len(fault.hits) == 1


async def test_dropped_get_is_retried(driver: Driver, fault: FaultServer) -> None:
    """A GET whose connection drops is retried."""
    path = fault.script("/drop", Drop(), 200)
    response = await driver.request("GET", fault.url(path), NO_WAIT)
    assert response.status == 200
    await response.release()
    assert len(fault.hits) == 2


async def test_refused_connect_is_retried_for_post(make_driver: type[Driver]) -> None:
    """A connect that failed sent nothing, so even a POST is tried again (and fails again here)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connects: list[object] = []

    async def on_connect(_: ClientSession, __: SimpleNamespace, params: object) -> None:
        connects.append(params)

    trace = TraceConfig()
    trace.on_connection_create_start.append(on_connect)
    ended: list[object] = []
    async with ClientSession(trace_configs=[trace]) as session:
        driver = make_driver(session, listeners=[ended.append])
        with pytest.raises(driver.refused):
            await driver.request("POST", f"http://127.0.0.1:{port}/", NO_WAIT, data=b"x")
    tries = [event for event in ended if isinstance(event, TryFinished)]
    assert [(event.attempt, event.error_kind) for event in tries] == [(n, ErrorKind.CONNECT) for n in (1, 2, 3)]
    if make_driver is not HttpxDriver:  # aiohttp's own trace hooks saw each connect too
        assert len(connects) == 3


@pytest.mark.looptime
async def test_retry_after_seconds_lengthens_the_wait(driver: Driver, fault: FaultServer) -> None:
    """Retry-After: 2 on a 503 makes the client wait 2 s instead of the schedule's 0.1 s."""
    path = fault.script("/busy", Reply(503, headers={"Retry-After": "2"}), 200)
    response = await driver.request("GET", fault.url(path), ExponentialRetry())
    assert response.status == 200
    await response.release()
    assert gaps(fault) == [2.0]


@pytest.mark.looptime
async def test_retry_after_date_is_honoured(driver: Driver, fault: FaultServer) -> None:
    """Retry-After as an HTTP-date makes the client wait until about that moment."""
    when = email.utils.formatdate(time.time() + 10, usegmt=True)
    path = fault.script("/busy", Reply(429, headers={"Retry-After": when}), 200)
    response = await driver.request("GET", fault.url(path), ExponentialRetry(statuses={429}))
    assert response.status == 200
    await response.release()
    assert 8.5 <= gaps(fault)[0] <= 10.0


@pytest.mark.looptime
async def test_retry_after_beyond_the_cap_ends_the_call(driver: Driver, fault: FaultServer) -> None:
    """A Retry-After longer than max_wait ends the call at once with that response."""
    path = fault.script("/busy", Reply(503, b"come back tomorrow", headers={"Retry-After": "86400"}), 200)
    opts = ExponentialRetry(retry_after=RetryAfter(max_wait=30))
    loop = asyncio.get_running_loop()
    start = loop.time()
    response = await driver.request("GET", fault.url(path), opts)
    assert response.status == 503
    assert await response.read() == b"come back tomorrow"
    assert len(fault.hits) == 1
    assert loop.time() - start < 1


@pytest.mark.looptime
async def test_garbage_retry_after_falls_back_to_the_schedule(driver: Driver, fault: FaultServer) -> None:
    """An unreadable or past Retry-After is ignored in favour of the schedule."""
    past = email.utils.formatdate(time.time() - 3600, usegmt=True)
    path = fault.script("/busy", Reply(503, headers={"Retry-After": "soon"}), Reply(503, headers={"Retry-After": past}))
    response = await driver.request("GET", fault.url(path), ExponentialRetry(start_timeout=1))
    await response.release()
    assert gaps(fault) == [1.0, 2.0]


@pytest.mark.looptime
async def test_retry_after_can_be_ignored(driver: Driver, fault: FaultServer) -> None:
    """retry_after=None keeps the schedule whatever the server asks."""
    path = fault.script("/busy", Reply(503, headers={"Retry-After": "5"}), 200)
    response = await driver.request("GET", fault.url(path), ExponentialRetry(retry_after=None))
    await response.release()
    assert gaps(fault) == [0.1]


@pytest.mark.looptime
async def test_total_timeout_bounds_the_call(driver: Driver, fault: FaultServer) -> None:
    """No wait starts that would end past total_timeout; the call ends with the last real response."""
    path = fault.script("/down", Reply(503, delay=0.1))
    opts = ExponentialRetry(attempts=10, start_timeout=0.3, total_timeout=1.5)
    loop = asyncio.get_running_loop()
    start = loop.time()
    response = await driver.request("GET", fault.url(path), opts)
    elapsed = loop.time() - start
    assert response.status == 503
    await response.release()
    # tries end at 0.1, 0.5 (after a 0.3 s wait), 1.2 (after 0.6 s); a 1.2 s wait would overrun
    assert len(fault.hits) == 3
    assert elapsed == pytest.approx(1.2, abs=0.01)


@pytest.mark.looptime
async def test_try_cut_by_the_deadline_ends_with_its_timeout(driver: Driver, fault: FaultServer) -> None:
    """A try still running at the deadline is cut; its TimeoutError is the call's outcome."""
    path = fault.script("/slow", Reply(200, delay=10))
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(TimeoutError):
        await driver.request("GET", fault.url(path), ExponentialRetry(total_timeout=2))
    assert loop.time() - start == pytest.approx(2.0, abs=0.01)
    assert len(fault.hits) == 1


@pytest.mark.looptime
async def test_attempt_timeout_cuts_a_slow_try(driver: Driver, fault: FaultServer) -> None:
    """A try slower than attempt_timeout is abandoned and retried."""
    path = fault.script("/slow", Reply(200, b"late", delay=10), Reply(200, b"quick"))
    opts = ExponentialRetry(start_timeout=0, attempt_timeout=1, total_timeout=5)
    response = await driver.request("GET", fault.url(path), opts)
    assert await response.read() == b"quick"
    assert gaps(fault) == [1.0]


@pytest.mark.looptime
async def test_time_left_is_propagated(driver: Driver, fault: FaultServer) -> None:
    """With propagate_timeout, each try tells the server the time it has left."""
    path = fault.script("/down", 503, 200)
    opts = ExponentialRetry(start_timeout=0.5, attempt_timeout=2, total_timeout=3, propagate_timeout=True)
    response = await driver.request("GET", fault.url(path), opts)
    await response.release()
    sent = [float(h.headers["X-Request-Timeout"]) for h in fault.hits]
    assert sent[0] == 2.0  # the attempt limit is shorter than the total
    assert 1.4 < sent[1] <= 2.0  # about 2.5 s of the total remain, capped by the attempt limit


@pytest.mark.aiohttp_only("httpx.AsyncClient takes no file object as a body (httpx's multipart `files=` is resent)")
async def test_file_body_is_resent_whole(driver: Driver, fault: FaultServer) -> None:
    """A file body is sent whole on every try."""
    path = fault.script("/upload", 503, 200)
    body = io.BytesIO(b"file contents" * 1000)
    response = await driver.request("PUT", fault.url(path), NO_WAIT, data=body)
    await response.release()
    assert [h.body for h in fault.hits] == [b"file contents" * 1000] * 2


async def test_async_generator_body_is_never_resent_empty(driver: Driver, fault: FaultServer) -> None:
    """A POST streaming an async generator is replayed intact or refused with a clear error."""
    path = fault.script("/stream", 503, 200)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"chunk{i};".encode()

    expected = b"".join(f"chunk{i};".encode() for i in range(5))
    if isinstance(driver, MiddlewareDriver):
        with pytest.raises(BodyNotReplayableError, match="one-shot") as info:
            await driver.request("POST", fault.url(path), NO_WAIT, data=chunks())
        assert info.value.last_status == 503
        assert [h.body for h in fault.hits] == [expected]
    else:
        response = await driver.request("POST", fault.url(path), NO_WAIT, data=chunks())
        await response.release()
        assert [h.body for h in fault.hits] == [expected, expected]


async def test_long_async_generator_body_is_refused_not_truncated(fault: FaultServer) -> None:
    """RetryClient reads a stream ahead up to replay_buffer; a longer one is sent once, then refused."""
    path = fault.script("/stream", 503, 200)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 100

    opts = ExponentialRetry(start_timeout=0, replay_buffer=250)
    async with RetryClient(retry_options=opts) as client:
        with pytest.raises(BodyNotReplayableError, match="replay_buffer"):
            await client.post(fault.url(path), data=chunks())
    assert [len(h.body) for h in fault.hits] == [1000]


async def test_failed_responses_are_released(make_driver: type[Driver], fault: FaultServer) -> None:
    """With one pooled connection and 4 MiB error bodies, retries neither hang nor leak."""
    big = b"x" * (4 * 1024 * 1024)
    path = fault.script("/big", Reply(500, big), Reply(500, big), Reply(200, b"done"))
    async with one_connection(make_driver) as (driver, in_use), asyncio.timeout(10):
        response = await driver.request("GET", fault.url(path), NO_WAIT)
        assert await response.read() == b"done"
        assert in_use() == 0


@pytest.mark.looptime
async def test_cancelled_backoff_releases(make_driver: type[Driver], fault: FaultServer) -> None:
    """Cancelling a call during its backoff leaves no connection acquired."""
    path = fault.script("/fail", Reply(500, b"x" * 1024 * 1024), 200)
    async with one_connection(make_driver) as (driver, in_use):
        opts = ExponentialRetry(start_timeout=10)
        task = asyncio.ensure_future(driver.request("GET", fault.url(path), opts))
        await asyncio.sleep(5)
        assert len(fault.hits) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert in_use() == 0


async def test_consumed_stream_is_not_resent_after_a_network_error(driver: Driver, fault: FaultServer) -> None:
    """After a dropped connection, a consumed one-shot body is refused too, with the drop as the cause."""
    path = fault.script("/stream", Drop(), 200)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"y" * 100

    opts = ExponentialRetry(start_timeout=0, replay_buffer=10)
    with pytest.raises(BodyNotReplayableError) as info:
        await driver.request("POST", fault.url(path), opts, data=chunks(), headers={"Idempotency-Key": "k"})
    assert isinstance(info.value.__cause__, driver.disconnected)
    assert info.value.last_status is None
    assert [len(h.body) for h in fault.hits] == [400]


@pytest.mark.aiohttp_only("aiohttp.payload.Payload is aiohttp's own body type")
async def test_payload_body_is_resent(driver: Driver, fault: FaultServer) -> None:
    """A ready-made aiohttp Payload of bytes is sent whole on every try."""
    path = fault.script("/payload", 503, 200)
    response = await driver.request("PUT", fault.url(path), NO_WAIT, data=payload.BytesPayload(b"abc"))
    await response.release()
    assert [h.body for h in fault.hits] == [b"abc", b"abc"]


@pytest.mark.looptime
async def test_total_timeout_covers_reading_a_stream_ahead(fault: FaultServer) -> None:
    """Reading a slow streamed body ahead counts against total_timeout: the call ends at the deadline."""
    path = fault.script("/up", 200)

    async def slow_chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            await asyncio.sleep(0.3)
            yield b"part"

    loop = asyncio.get_running_loop()
    start = loop.time()
    async with RetryClient(retry_options=ExponentialRetry(total_timeout=0.5)) as client:
        with pytest.raises(TimeoutError):
            await client.put(fault.url(path), data=slow_chunks())
    assert loop.time() - start == pytest.approx(0.5, abs=0.01)
    assert fault.hits == []


@pytest.mark.looptime
async def test_time_spent_reading_ahead_is_taken_from_the_total(fault: FaultServer) -> None:
    """A stream read ahead in 0.6 s leaves 0.4 s of a 1 s total for the tries."""
    path = fault.script("/up", Reply(200, delay=10))

    async def slow_chunks() -> AsyncIterator[bytes]:
        for _ in range(2):
            await asyncio.sleep(0.3)
            yield b"part"

    loop = asyncio.get_running_loop()
    start = loop.time()
    async with RetryClient(retry_options=ExponentialRetry(total_timeout=1)) as client:
        with pytest.raises(TimeoutError):
            await client.put(fault.url(path), data=slow_chunks())
    assert loop.time() - start == pytest.approx(1.0, abs=0.01)
