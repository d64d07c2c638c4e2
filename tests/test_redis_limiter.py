"""The rate limiter shared on Redis, against a real server (started per test): one limit for two processes.

Each "process" is a RedisFleet with its own client and its own SharedRateLimiter, as two processes
would have. Time is real here (the limiter waits for Redis), so windows are short.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.asyncio import Redis

from aiohttp_retry import ExponentialRetry, Hedging, RateLimitedError, RetryClient, StopReason
from aiohttp_retry.contrib.redis import RedisFleet, SharedRateLimiter
from aiohttp_retry.engine.limits import Limits
from tests.fault_server import FaultServer, Reply
from tests.redis_server import RedisServer
from tests.test_limits import most_in_any_window

ORIGIN = "api.example.com"
URL = f"http://{ORIGIN}/items"


async def start_of(limiter: SharedRateLimiter, url: str = URL, latest: float = float("inf")) -> float:
    """The start ``limiter`` reserves for a try to ``url`` now, relative to now (seconds)."""
    now = asyncio.get_running_loop().time()
    reserved = limiter.reserve(url.split("/")[2], url, now, latest)
    at = reserved if isinstance(reserved, float) else await reserved
    return at - now


async def test_two_processes_share_one_limit(fleets: list[RedisFleet]) -> None:
    """ "3 per 0.4 s" for both: 9 tries asked for at once, alternately, start in three waves, three each."""
    a, b = (SharedRateLimiter(fleet, per_origin="3 per 0.4 s", slack=0.05) for fleet in fleets)
    starts = await asyncio.gather(*(start_of(a if n % 2 else b) for n in range(9)))
    waves = sorted(round(at / 0.45) for at in starts)  # 0.4 s and the slack apart
    assert waves == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert most_in_any_window(list(starts), 0.4) == 3


async def test_the_limit_holds_at_the_server_through_retry_clients(
    fleets: list[RedisFleet], fault: FaultServer
) -> None:
    """Two clients, one per fleet, 2 callers each on "3 per 0.4 s": at most 3 arrivals in any 0.4 s, 12 in all."""
    path = fault.script("/r", 200)
    origin = fault.base_url.split("//")[1]
    clients = [
        RetryClient(rate_limiter=SharedRateLimiter(fleet, rules={origin: "3 per 0.4 s"}, slack=0.05))
        for fleet in fleets
    ]

    async def caller(client: RetryClient) -> None:
        for _ in range(3):
            async with client.get(fault.url(path)) as response:
                assert response.status == 200

    try:
        await asyncio.gather(*(caller(client) for client in clients for _ in range(2)))
    finally:
        for client in clients:
            await client.close()
    times = [hit.time for hit in fault.hits]
    assert len(times) == 12
    assert most_in_any_window(times, 0.4) == 3


async def test_a_try_no_limit_applies_to_never_asks_redis(fleets: list[RedisFleet], redis_server: RedisServer) -> None:
    """A rule for one origin: another origin's tries start at once, without a round trip, even with Redis down."""
    limiter = SharedRateLimiter(fleets[0], rules={ORIGIN: "1/s", "/users/{id}": "1/s"})
    redis_server.stop()
    now = asyncio.get_running_loop().time()
    assert limiter.reserve("other.example.com", "http://other.example.com/items", now) == now
    assert not fleets[0].degraded
    asking = limiter.reserve("other.example.com", "http://other.example.com/users/7", now)  # a rule applies
    assert asyncio.iscoroutine(asking)
    asking.close()


async def test_a_start_past_the_deadline_is_refused_and_nothing_is_reserved(
    fleets: list[RedisFleet], redis_server: RedisServer
) -> None:
    limiter = SharedRateLimiter(fleets[0], per_origin="2/s")
    assert await start_of(limiter) == pytest.approx(0, abs=0.05)
    assert await start_of(limiter) == pytest.approx(0, abs=0.05)
    loop = asyncio.get_running_loop()
    with pytest.raises(RateLimitedError, match=r"2/s per origin \(api\.example\.com\)") as refused:
        await start_of(limiter, latest=loop.time() + 0.5)
    assert refused.value.wait == pytest.approx(1.01, abs=0.05)
    async with Redis.from_url(redis_server.url) as redis:
        assert await redis.zcard(f"aiohttp_retry:rate:{ORIGIN}") == 2
    assert await start_of(limiter) == pytest.approx(1.01, abs=0.05)  # no later than the refused one would have


async def test_a_cancelled_wait_gives_its_start_back(fleets: list[RedisFleet], redis_server: RedisServer) -> None:
    """A caller cancelled while it waits for its start: the start is removed in Redis, the next caller gets it."""
    limiter = SharedRateLimiter(fleets[0], per_origin="1 per 0.5 s")
    limits = Limits(rate=limiter)  # type: ignore[arg-type] # the engine's limits, as an adapter builds them
    loop = asyncio.get_running_loop()
    first = limits.admit(ORIGIN, URL, loop.time(), float("inf"))
    assert not isinstance(first, tuple)
    assert await first == ()
    waiting = asyncio.ensure_future(limits.admit(ORIGIN, URL, loop.time(), float("inf")))  # type: ignore[arg-type]
    await asyncio.sleep(0.1)  # reserved (0.5 s away) and sleeping
    async with Redis.from_url(redis_server.url) as redis:
        assert await redis.zcard(f"aiohttp_retry:rate:{ORIGIN}") == 2
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await limiter.aclose()  # the give-back is under way: wait for it
        assert await redis.zcard(f"aiohttp_retry:rate:{ORIGIN}") == 1
    assert await start_of(limiter) == pytest.approx(0.4, abs=0.06)  # the cancelled caller's start


async def test_redis_down_falls_back_to_a_local_share_and_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Two processes counted, Redis stopped: each applies half of "4 per 0.5 s" locally; one WARNING; shared again
    once a sync succeeds."""
    caplog.set_level(logging.INFO, logger="aiohttp_retry.redis")
    async with (
        RedisFleet(url=redis_server.url, interval=60, timeout=0.3) as a,
        RedisFleet(url=redis_server.url, interval=60, timeout=0.3) as b,
    ):
        mine, other = SharedRateLimiter(a, per_origin="4 per 0.5 s"), SharedRateLimiter(b, per_origin="4 per 0.5 s")
        await start_of(mine)
        await start_of(other)
        assert await a.sync()
        assert await b.sync()
        assert await a.sync()  # now that b has said it is there
        assert mine.processes == 2
        redis_server.stop()
        loop = asyncio.get_running_loop()
        began = loop.time()
        starts = [await start_of(mine) for _ in range(3)]  # the first finds Redis gone; the rest never ask
        assert loop.time() - began < 1.0  # one failed round trip (refused at once), no waiting for Redis
        assert a.degraded
        assert starts[:2] == [pytest.approx(0, abs=0.05)] * 2  # 2 of 4: this process's share
        assert starts[2] == pytest.approx(0.51, abs=0.05)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        redis_server.start()
        for _ in range(20):
            if await a.sync():
                break
        assert not a.degraded
        await start_of(mine)
        async with Redis.from_url(redis_server.url) as redis:  # reserved in Redis again (restarted empty)
            assert await redis.zcard(f"aiohttp_retry:rate:{ORIGIN}") == 1


async def test_a_paused_redis_delays_a_try_by_the_timeout_at_most(redis_server: RedisServer) -> None:
    async with (
        RedisFleet(url=redis_server.url, interval=60, timeout=0.2) as fleet,
        Redis.from_url(redis_server.url) as admin,
    ):
        limiter = SharedRateLimiter(fleet, per_origin="10/s")
        await start_of(limiter)
        await admin.execute_command("CLIENT", "PAUSE", "2000", "ALL")
        loop = asyncio.get_running_loop()
        began = loop.time()
        assert 0.15 < await start_of(limiter) < 0.5  # the local share, once the request was cut at 0.2 s
        assert loop.time() - began < 1.0  # long before the pause ends
        assert fleet.degraded


async def test_hedges_do_not_go_to_a_url_a_shared_limit_applies_to(
    fleets: list[RedisFleet], fault: FaultServer, redis_server: RedisServer
) -> None:
    """Asking Redis is a wait: a hedge goes only when every limit lets it go at once, so none goes here."""
    path = fault.script("/slow", Reply(200, b"first", delay=0.3))
    origin = fault.base_url.split("//")[1]
    limiter = SharedRateLimiter(fleets[0], per_origin="100/s")
    options = ExponentialRetry(attempts=3, hedging=Hedging(delay=0.05))
    async with (
        RetryClient(rate_limiter=limiter) as client,
        client.get(fault.url(path), retry_options=options) as response,
    ):
        assert await response.read() == b"first"
    assert len(fault.hits) == 1
    limits = Limits(rate=limiter)  # type: ignore[arg-type]
    assert limits.admit_now(origin, fault.url(path), asyncio.get_running_loop().time()) is StopReason.RATE_LIMITED
    await asyncio.sleep(0.05)
    async with Redis.from_url(redis_server.url) as redis:
        assert await redis.zcard(f"aiohttp_retry:rate:{origin}") == 1  # the first try's start only


async def test_keys_and_their_expiry(fleets: list[RedisFleet], redis_server: RedisServer) -> None:
    limiter = SharedRateLimiter(
        fleets[0], per_origin="5/s", total="50/min", rules={"/users/{id}": "2/s", ORIGIN: "3/s"}
    )
    await start_of(limiter, f"http://{ORIGIN}/users/7")
    assert await fleets[0].sync()
    async with Redis.from_url(redis_server.url) as redis:
        keys = sorted(key.decode() for key in await redis.keys("*"))
        assert keys == [
            "aiohttp_retry:rate:*",
            f"aiohttp_retry:rate:{ORIGIN}",
            "aiohttp_retry:rate:processes",
            "aiohttp_retry:rate:rule:/users/{id}",
            f"aiohttp_retry:rate:rule:{ORIGIN}",
        ]
        ttls = {key: await redis.pttl(key) for key in keys}
    assert 0 < ttls["aiohttp_retry:rate:*"] <= 61_010
    assert 0 < ttls[f"aiohttp_retry:rate:{ORIGIN}"] <= 2_010
    assert 0 < ttls["aiohttp_retry:rate:processes"] <= 180_000  # three sync intervals of 60 s


def test_bad_arguments_are_refused() -> None:
    fleet = RedisFleet(url="redis://127.0.0.1:1/0")
    with pytest.raises(TypeError, match="fleet must be a RedisFleet"):
        SharedRateLimiter(object(), per_origin="1/s")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="RateLimiter needs a limit"):
        SharedRateLimiter(fleet)
    with pytest.raises(ValueError, match=r"rules\['/x'\] must be a rate"):
        SharedRateLimiter(fleet, rules={"/x": "often"})
    with pytest.raises(ValueError, match="slack"):
        SharedRateLimiter(fleet, per_origin="1/s", slack=-1)
    described = repr(SharedRateLimiter(fleet, per_origin="10/s", total=(600, 60), rules={"/x": 1}))
    assert described == (
        "SharedRateLimiter(redis 127.0.0.1:1/0 prefix 'aiohttp_retry', per_origin='10/s', "
        "total='600 per 60 s', rules=...)"
    )


async def test_while_redis_is_down_every_kind_of_limit_is_shared_out_and_a_local_start_is_given_back(
    fleets: list[RedisFleet], redis_server: RedisServer
) -> None:
    """Two processes counted: "4 per 0.5 s" per rule and in total become 2 each locally; a cancelled local start
    goes back to the local limits."""
    a, b = fleets
    mine = SharedRateLimiter(a, total="4 per 0.5 s", rules={ORIGIN: "4 per 0.5 s"})
    other = SharedRateLimiter(b, total="4 per 0.5 s", rules={ORIGIN: "4 per 0.5 s"})
    await start_of(mine)
    await start_of(other)
    for fleet in (a, b, a):
        assert await fleet.sync()
    redis_server.stop()
    assert not await a.sync()
    assert a.degraded
    assert [round(await start_of(mine), 1) for _ in range(2)] == [0.0, 0.0]
    loop = asyncio.get_running_loop()
    third = mine.reserve(ORIGIN, URL, loop.time())
    assert isinstance(third, float)  # decided locally, at once
    assert third - loop.time() == pytest.approx(0.51, abs=0.05)  # the share of 2 is used up
    mine.cancel(ORIGIN, URL, third)
    again = mine.reserve(ORIGIN, URL, loop.time())
    assert again == pytest.approx(third, abs=0.05)  # the start given back is the next one's
    assert mine.reserve("other.example.com", "http://other.example.com/", loop.time()) > loop.time()  # the total


async def test_a_caller_cancelled_during_the_round_trip_gives_its_start_back(redis_server: RedisServer) -> None:
    async with (
        RedisFleet(url=redis_server.url, interval=60, timeout=5) as fleet,
        Redis.from_url(redis_server.url) as admin,
    ):
        limiter = SharedRateLimiter(fleet, per_origin="1/s")
        await start_of(limiter)
        await admin.execute_command("CLIENT", "PAUSE", "300", "WRITE")
        asking = asyncio.ensure_future(start_of(limiter))
        await asyncio.sleep(0.1)  # the script is sent; the paused server holds it
        asking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asking
        await asyncio.sleep(0.4)  # the pause ends
        await limiter.aclose()
        assert await admin.zcard(f"aiohttp_retry:rate:{ORIGIN}") == 1  # the first start only
        assert not fleet.degraded


async def test_origins_kept_are_bounded(fleets: list[RedisFleet]) -> None:
    limiter = SharedRateLimiter(fleets[0], per_origin="5/s", max_keys=2)
    for origin in ("a.example", "b.example", "c.example"):
        await start_of(limiter, f"http://{origin}/")
    assert list(limiter._origins) == ["b.example", "c.example"]
    assert limiter.queue(fleets[0].redis.pipeline()) is not None
    unused = SharedRateLimiter(fleets[1], per_origin="5/s")
    assert unused.queue(fleets[1].redis.pipeline()) is None  # never used: not counted among the processes
