"""Rate limits, concurrency limits and the adaptive throttle, against a real local server, in virtual time.

Every test runs through RetryClient and through RetryMiddleware.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from aiohttp_retry import (
    AdaptiveThrottle,
    BulkheadFullError,
    ConcurrencyLimiter,
    ExponentialRetry,
    GaveUp,
    RateLimitedError,
    RateLimiter,
    RetryTimeoutError,
    StopReason,
    ThrottledError,
)
from tests.drivers import Driver
from tests.fault_server import FaultServer, Reply

ONCE = ExponentialRetry(attempts=1)


def most_in_any_window(times: list[float], seconds: float) -> int:
    """The most of ``times`` that lie in one half-open window [t, t + seconds)."""
    ordered = sorted(times)
    return max((sum(1 for u in ordered[i:] if u < t + seconds) for i, t in enumerate(ordered)), default=0)


async def call_all(driver: Driver, url: str, options: ExponentialRetry, callers: int) -> list[object]:
    async def one() -> object:
        response = await driver.request("GET", url, options)
        await response.release()
        return response.status

    return await asyncio.gather(*(one() for _ in range(callers)), return_exceptions=True)


@pytest.mark.looptime
async def test_rate_limit_spreads_callers_over_windows(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """10/s with 50 callers at once: all 50 are served, 10 in each second, in the order they came."""
    driver = make_driver(session, rate_limiter=RateLimiter(per_origin="10/s"))
    start = asyncio.get_running_loop().time()
    results = await call_all(driver, fault.url("/api"), ONCE, 50)
    assert results == [200] * 50
    times = [hit.time - start for hit in fault.hits]
    assert most_in_any_window(times, 1.0) == 10
    assert [round(t) for t in times] == [second for second in range(5) for _ in range(10)]


@pytest.mark.looptime
async def test_a_wait_past_the_deadline_is_not_started(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """With total_timeout=0.3, callers beyond the first second's 10 end at once with RateLimitedError."""
    ended: list[GaveUp] = []
    driver = make_driver(session, rate_limiter=RateLimiter(per_origin="10/s"), listeners=[ended.append])
    loop = asyncio.get_running_loop()
    start = loop.time()
    results = await call_all(driver, fault.url("/api"), ExponentialRetry(attempts=1, total_timeout=0.3), 25)
    assert loop.time() - start < 0.01  # nobody waited
    assert results[:10] == [200] * 10
    assert all(isinstance(r, RateLimitedError) for r in results[10:])
    error = results[10]
    assert isinstance(error, RateLimitedError)
    assert error.limit == f"10/s per origin ({fault.base_url.split('//')[1]})"
    assert error.wait == pytest.approx(1.01)  # a window of 1 s and 10 ms of slack
    assert len(fault.hits) == 10
    refusals = [e for e in ended if isinstance(e, GaveUp)]
    assert [e.reason for e in refusals] == [StopReason.RATE_LIMITED] * 15
    assert {e.tries for e in refusals} == {0}


@pytest.mark.looptime
async def test_retries_wait_for_their_start_too(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """A retry takes a start like any try: with 2 per second, 503 then 200 lands in the next second."""
    path = fault.script("/flaky", 503, 503, 200)
    driver = make_driver(session, rate_limiter=RateLimiter(per_origin="2/s"))
    response = await driver.request("GET", fault.url(path), ExponentialRetry(attempts=3, start_timeout=0))
    assert response.status == 200
    await response.release()
    times = [hit.time for hit in fault.hits]
    assert times[2] - times[0] == pytest.approx(1.01)  # the window and its 10 ms of slack


@pytest.mark.looptime
async def test_rules_by_template_and_origin_apply_together(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """A path-template rule counts its own requests; the origin rule counts them all; both must allow."""
    origin = fault.base_url.split("//")[1]
    limiter = RateLimiter(rules={"/search/{q}": "1/s", origin: "3/s"})
    driver = make_driver(session, rate_limiter=limiter)
    start = asyncio.get_running_loop().time()
    paths = ["/search/a", "/other", "/search/b", "/other", "/other"]
    await asyncio.gather(*(driver.request("GET", fault.url(path), ONCE) for path in paths))
    when = sorted((round(hit.time - start, 3), hit.path) for hit in fault.hits)
    # /search/a and /other at 0; /search/b waits for the template's next window (1 s and 10 ms of slack);
    # the origin's rule serves in arrival order, so the /other calls after it start no earlier.
    assert when == [(0.0, "/other"), (0.0, "/search/a"), (1.01, "/other"), (1.01, "/other"), (1.01, "/search/b")]


@pytest.mark.looptime
async def test_concurrency_limit_holds_also_while_retries_back_off(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """3 slots, 20 callers: the server never has more than 3 requests at once; a backing-off call holds none."""
    path = fault.script("/slow", Reply(503, delay=0.2), Reply(200, delay=0.2))
    limiter = ConcurrencyLimiter(per_origin=3)
    driver = make_driver(session, concurrency_limiter=limiter)
    options = ExponentialRetry(attempts=2, start_timeout=1.0)
    results = await call_all(driver, fault.url(path), options, 20)
    assert results == [200] * 20
    assert fault.most_in_flight == 3
    assert len(fault.hits) == 21  # the first caller's 503, then 200 for it and for everyone else
    start = fault.hits[0].time
    starts = [round(hit.time - start, 3) for hit in fault.hits]
    # at 0.2 s the first three answers came: the caller that got 503 backs off for 1 s without its slot,
    # so three more callers start at once (two, had it kept its slot)
    assert starts[:6] == [0.0, 0.0, 0.0, 0.2, 0.2, 0.2]
    assert limiter.pools(fault.base_url.split("//")[1], "/")[0].busy == 0  # every slot came back


@pytest.mark.looptime
async def test_full_queue_refuses_at_once(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """1 slot and a queue of 2: of 5 callers, 1 runs, 2 wait their turn, 2 end at once with BulkheadFullError."""
    path = fault.script("/slow", Reply(200, delay=1.0))
    driver = make_driver(session, concurrency_limiter=ConcurrencyLimiter(total=1, max_queue=2))
    loop = asyncio.get_running_loop()
    start = loop.time()
    results = await call_all(driver, fault.url(path), ONCE, 5)
    assert results[:3] == [200] * 3
    assert all(isinstance(r, BulkheadFullError) for r in results[3:])
    assert [round(hit.time - start, 3) for hit in fault.hits] == [0.0, 1.0, 2.0]
    assert fault.most_in_flight == 1


@pytest.mark.looptime
async def test_waiting_for_a_slot_ends_at_the_deadline(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """A caller whose deadline passes while it waits for a slot ends with RetryTimeoutError, sending nothing."""
    path = fault.script("/slow", Reply(200, delay=5.0))
    driver = make_driver(session, concurrency_limiter=ConcurrencyLimiter(total=1))
    first = asyncio.ensure_future(driver.request("GET", fault.url(path), ONCE))
    await asyncio.sleep(0.1)
    with pytest.raises(RetryTimeoutError, match=r"total_timeout of 0\.5 s"):
        await driver.request("GET", fault.url(path), ExponentialRetry(attempts=1, total_timeout=0.5))
    await (await first).release()
    assert len(fault.hits) == 1


@pytest.mark.looptime
async def test_a_cancelled_waiter_gives_its_turn_away(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """Cancelling a caller that waits for a slot or a start frees them for the next caller."""
    path = fault.script("/slow", Reply(200, delay=1.0))
    limiter = ConcurrencyLimiter(total=1)
    driver = make_driver(session, concurrency_limiter=limiter, rate_limiter=RateLimiter(total="1/s"))
    first = asyncio.ensure_future(driver.request("GET", fault.url(path), ONCE))
    waiting = asyncio.ensure_future(driver.request("GET", fault.url(path), ONCE))
    await asyncio.sleep(0.5)
    waiting.cancel()
    third = asyncio.ensure_future(driver.request("GET", fault.url(path), ONCE))
    await (await first).release()
    await (await third).release()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    start = fault.hits[0].time
    assert [round(hit.time - start, 3) for hit in fault.hits] == [0.0, 1.01]  # the third took the freed start
    assert limiter.pools("x", "/")[0].busy == 0  # a total limit: one pool for every origin


# -- the adaptive throttle ----------------------------------------------------------------------------------


class Overloaded:
    """A server that takes ``capacity`` requests a second and answers 503 to the rest, until healed."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.healed = False
        self.arrivals: list[float] = []
        self.accepted: list[float] = []

    async def handle(self, _: web.Request) -> web.Response:
        now = asyncio.get_running_loop().time()
        this_second = sum(1 for t in self.accepted if int(t) == int(now))
        self.arrivals.append(now)
        if self.healed or this_second < self.capacity:
            self.accepted.append(now)
            return web.Response(text="ok")
        return web.Response(status=503)


@pytest.mark.looptime
async def test_adaptive_throttle_sheds_load_while_the_server_refuses(
    make_driver: type[Driver], session: ClientSession
) -> None:
    """Demand 50/s, capacity 10/s for 20 s: the server sees about k (2) times what it accepts, not 5 times."""
    import random  # noqa: PLC0415

    server = Overloaded(capacity=10)
    app = web.Application()
    app.router.add_get("/", server.handle)
    async with TestServer(app) as test_server:
        url = str(test_server.make_url("/"))
        throttle = AdaptiveThrottle(k=2.0, window=120, rng=random.Random(5))
        driver = make_driver(session, throttle=throttle)
        loop = asyncio.get_running_loop()
        shed = 0
        for tick in itertools.count():
            if loop.time() >= 20:
                break
            results = await call_all(driver, url, ONCE, 5)
            shed += sum(isinstance(r, ThrottledError) for r in results)
            await asyncio.sleep(max(0.1 * (tick + 1) - loop.time(), 0))
    late = [t for t in server.arrivals if t >= 10]
    accepted_late = [t for t in server.accepted if t >= 10]
    assert len(accepted_late) == pytest.approx(100, abs=10)  # capacity 10/s, kept busy
    assert len(late) / len(accepted_late) <= 2.2
    assert shed > 0.4 * 1000  # of 1000 calls, well over 40 % never left the client


@pytest.mark.looptime
async def test_hedges_go_only_when_the_limits_admit_them_at_once(session: ClientSession, fault: FaultServer) -> None:
    """With one slot, a hedged call's second try cannot start beside the first: the call waits for the first."""
    from aiohttp_retry import Hedging, RetryClient  # noqa: PLC0415

    path = fault.script("/slow", Reply(200, b"first", delay=2.0))
    limiter = ConcurrencyLimiter(total=1)
    client = RetryClient(client_session=session, concurrency_limiter=limiter)
    options = ExponentialRetry(attempts=3, hedging=Hedging(delay=0.5))
    async with client.get(fault.url(path), retry_options=options) as response:
        assert await response.read() == b"first"
    assert len(fault.hits) == 1
    assert fault.most_in_flight == 1
    assert limiter.pools("x", "/")[0].busy == 0
    free = RetryClient(client_session=session, concurrency_limiter=ConcurrencyLimiter(total=2))
    async with free.get(fault.url(path), retry_options=options) as response:
        assert response.status == 200
    assert len(fault.hits) == 3  # with a second slot, the hedge went
