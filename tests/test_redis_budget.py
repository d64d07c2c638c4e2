"""The retry budget shared on Redis, against a real server (started per test): sharing, keys, outages, recovery."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import pytest
from redis.asyncio import Redis

from aiohttp_retry import ExponentialRetry, RetryClient
from aiohttp_retry.contrib.redis import RedisFleet, SharedRetryBudget
from aiohttp_retry.events import SharedStateLost, SharedStateRestored
from tests.fault_server import FaultServer
from tests.redis_server import RedisServer

KEY = "api.example.com"


class Clock:
    """A clock that stands still unless moved: the local windows do not slide during a test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def grants(budget: SharedRetryBudget, key: str = KEY, most: int = 1000) -> int:
    """How many retries the budget grants in a row now."""
    granted = 0
    while granted < most and budget.try_retry(key):
        granted += 1
    return granted


async def test_processes_share_one_budget(fleets: list[RedisFleet]) -> None:
    """Two processes with 50 calls each share 20 % of 100 calls: 20 retries between them, not 20 each.

    Each sync claims the process's share of what is left (its 50 of the fleet's calls at that moment);
    a claim counts as spent at once, and what was not spent is given back at the next sync.
    """
    clock = Clock()
    a, b = (SharedRetryBudget(fleet, ratio=0.2, min_per_second=0, clock=clock) for fleet in fleets)
    for _ in range(50):
        a.record_call(KEY)
        b.record_call(KEY)
    assert await fleets[0].sync()  # a: 50 calls in the fleet, all its own: claims 10 of 10
    assert await fleets[1].sync()  # b: half of 100 calls; 10 of 20 left: claims 5
    assert (grants(a), grants(b)) == (10, 5)
    spent = 15
    for _ in range(4):
        for fleet in fleets:
            assert await fleet.sync()
        a_more, b_more = grants(a), grants(b)
        spent += a_more + b_more
    assert spent == 20  # the fleet's budget, spent to the last retry and not beyond
    assert (grants(a), grants(b)) == (0, 0)


async def test_the_reserve_is_the_fleets_not_each_processes(fleets: list[RedisFleet]) -> None:
    """min_per_second * window retries for the whole fleet, split by each process's share of the calls."""
    clock = Clock()
    a, b = (SharedRetryBudget(fleet, ratio=0.0, min_per_second=2, window=10, clock=clock) for fleet in fleets)
    for _ in range(30):
        a.record_call(KEY)
    for _ in range(10):
        b.record_call(KEY)
    assert await fleets[1].sync()  # b: all 10 calls so far are its own: claims the whole reserve
    assert await fleets[0].sync()  # a: 3/4 of 40 calls, but nothing is left
    assert (grants(a), grants(b)) == (0, 20)
    assert await fleets[1].sync()  # b gives back nothing: it spent all
    for fleet in fleets:
        assert await fleet.sync()
    assert (grants(a), grants(b)) == (0, 0)


async def test_own_new_calls_add_to_the_allowance_between_syncs(fleets: list[RedisFleet]) -> None:
    clock = Clock()
    budget = SharedRetryBudget(fleets[0], ratio=0.5, min_per_second=0, clock=clock)
    budget.record_call(KEY)
    assert await fleets[0].sync()
    assert grants(budget) == 0  # half a retry: no whole one to claim
    for _ in range(4):
        budget.record_call(KEY)
    assert grants(budget) == 2  # 0.5 per call started since the sync
    assert await fleets[0].sync()  # the fleet: 5 calls, 2 retries: 0.5 left
    assert grants(budget) == 0


async def test_before_its_first_sync_a_process_spends_no_reserve(fleets: list[RedisFleet]) -> None:
    """Processes starting at once would each spend the whole fleet's reserve: until a sync, own calls only."""
    budget = SharedRetryBudget(fleets[0], ratio=0.2, min_per_second=10, clock=Clock())
    for _ in range(10):
        budget.record_call(KEY)
    assert grants(budget) == 2


async def test_keys_hold_counts_only_and_expire(fleets: list[RedisFleet], redis_server: RedisServer) -> None:
    budget = SharedRetryBudget(fleets[0], window=5, clock=Clock())
    budget.record_call("127.0.0.1:8080")
    assert await fleets[0].sync()
    async with Redis.from_url(redis_server.url) as redis:
        keys = await redis.keys("*")
        assert keys == [b"aiohttp_retry:budget:127.0.0.1:8080"]
        assert 0 < await redis.pttl(keys[0]) <= 10_000  # two windows
        fields = await redis.hgetall(keys[0])
    me = budget.process.encode()
    assert set(fields) == {b"c:" + me, b"r:" + me, b"h:" + me, b"s:" + me}
    assert (fields[b"c:" + me], fields[b"r:" + me]) == (b"1", b"0")  # its window: one call, no retry
    assert fields[b"h:" + me] == b"50"  # its claim: 0.2 * 1 + 5 * 10, whole
    assert fields[b"s:" + me].isdigit()  # when it told them (the server's clock, ms)


async def test_an_outage_falls_back_to_the_local_budget_and_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis stopped: one WARNING, one event, local decisions; restarted: one INFO, one event, shared totals again."""
    caplog.set_level(logging.INFO, logger="aiohttp_retry.redis")
    events: list[Any] = []
    async with RedisFleet(url=redis_server.url, interval=60, timeout=0.3, listeners=[events.append]) as fleet:
        budget = SharedRetryBudget(fleet, ratio=0.0, min_per_second=1, window=10, clock=Clock())
        budget.record_call(KEY)
        assert await fleet.sync()
        assert not fleet.degraded
        redis_server.stop()
        assert not await fleet.sync()
        assert not await fleet.sync()
        assert fleet.degraded
        assert grants(budget) == 10  # the local rule: its own reserve of 1/s over 10 s
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "unreachable" in warnings[0].getMessage()
        assert [type(e) for e in events] == [SharedStateLost]
        redis_server.start()
        for _ in range(20):  # the client reconnects on its own; a try may meet the old connection
            if await fleet.sync():
                break
        assert not fleet.degraded
        assert [type(e) for e in events] == [SharedStateLost, SharedStateRestored]
        assert any(r.levelno == logging.INFO and "answers again" in r.getMessage() for r in caplog.records)
        # the retries spent while Redis was down were pushed: the fleet's reserve of 10 is gone
        assert grants(budget) == 0
    async with Redis.from_url(redis_server.url) as redis:
        fields = await redis.hgetall(f"aiohttp_retry:budget:{KEY}")
    assert sum(int(v) for k, v in fields.items() if k.startswith(b"r")) == 10


async def test_a_paused_server_costs_a_sync_its_timeout_and_no_call_waits(redis_server: RedisServer) -> None:
    """While Redis does not answer, a sync gives up after timeout; deciding never awaits Redis."""
    async with (
        RedisFleet(url=redis_server.url, interval=60, timeout=0.2) as fleet,
        Redis.from_url(redis_server.url) as admin,
    ):
        budget = SharedRetryBudget(fleet, clock=Clock())
        budget.record_call(KEY)
        assert await fleet.sync()
        await admin.execute_command("CLIENT", "PAUSE", "2000", "ALL")
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert not await fleet.sync()
        assert loop.time() - started < 1.5  # cut at its timeout, long before the pause ends
        budget.record_call(KEY)
        assert budget.try_retry(KEY)


async def test_the_fleet_syncs_in_the_background_and_stops_when_closed(
    redis_server: RedisServer, fault: FaultServer
) -> None:
    """Through RetryClient, the first call starts the sync task; closing the fleet ends it and pushes the rest.

    Until its first sync for an origin, a process grants no retries from the reserve: the first
    call's 503 is final; after the sync, the fleet's reserve pays for the second call's retries.
    """
    fleet = RedisFleet(url=redis_server.url, interval=0.02, timeout=0.5)
    path = fault.script("/down", 503)
    opts = ExponentialRetry(attempts=3, start_timeout=0)
    async with RetryClient(retry_budget=SharedRetryBudget(fleet), retry_options=opts) as client:
        async with client.get(fault.url(path)) as resp:
            assert resp.status == 503
        assert len(fault.hits) == 1
        for _ in range(200):
            if fleet.syncs:
                break
            await asyncio.sleep(0.01)
        assert fleet.syncs >= 1
        async with client.get(fault.url(path)) as resp:
            assert resp.status == 503
        assert len(fault.hits) == 4
    task = fleet._task
    assert task is not None
    await fleet.aclose()
    assert task.done()
    assert fleet._task is None
    async with Redis.from_url(redis_server.url) as redis:
        fields = await redis.hgetall(f"aiohttp_retry:budget:{fault.base_url.split('//')[1]}")
    totals = {kind: sum(int(v) for k, v in fields.items() if k[:1] == kind) for kind in (b"c", b"r")}
    assert totals == {b"c": 2, b"r": 2}


async def test_closing_always_ends_the_sync_even_as_an_answer_arrives(redis_server: RedisServer) -> None:
    """aclose() cancels the sync task at any moment, also in the loop iteration in which Redis answers: it
    always returns. (Through asyncio.wait_for on Python 3.11, about 4 in 100 of these closings waited for
    ever: the cancellation was dropped and the sync went on.)"""
    rng = random.Random(7)
    for _ in range(100):
        fleet = RedisFleet(url=redis_server.url, interval=0.01, timeout=0.5)
        SharedRetryBudget(fleet).record_call("http://example.test")  # something to sync: every round asks Redis
        fleet.start()
        await asyncio.sleep(rng.uniform(0.01, 0.03))
        task = fleet._task
        assert task is not None
        closing = asyncio.ensure_future(fleet.aclose())
        done, _ = await asyncio.wait((closing,), timeout=2)
        if not done:
            task.cancel()  # let the test end; the closing that hung is the failure
            await asyncio.wait((closing,), timeout=2)
        assert done, "aclose() did not return"
        assert task.done()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="exactly one of redis="):
        RedisFleet()
    with pytest.raises(TypeError, match=r"redis must be a redis\.asyncio\.Redis"):
        RedisFleet(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="interval must be a number of seconds"):
        RedisFleet(url="redis://127.0.0.1:1/0", interval=0)
    with pytest.raises(ValueError, match="timeout must be a number of seconds"):
        RedisFleet(url="redis://127.0.0.1:1/0", timeout=-1)
    with pytest.raises(ValueError, match="prefix must be a non-empty string"):
        RedisFleet(url="redis://127.0.0.1:1/0", prefix="")
    with pytest.raises(TypeError, match="fleet must be a RedisFleet"):
        SharedRetryBudget(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ratio"):
        SharedRetryBudget(RedisFleet(url="redis://127.0.0.1:1/0"), ratio=-1)


def test_no_password_is_shown() -> None:
    fleet = RedisFleet(url="redis://user:s3cret@cache.internal:6380/2", prefix="svc")
    assert "s3cret" not in repr(fleet)
    assert fleet.store == "redis cache.internal:6380/2 prefix 'svc'"
    assert "s3cret" not in repr(SharedRetryBudget(fleet))
