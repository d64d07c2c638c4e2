"""The circuit breaker shared on Redis, against a real server: one state for the fleet, probes limited fleet-wide.

Two fleets on one server stand for two processes; syncs are made explicitly, so the order of
events is the test's. The break is short and runs on the server's clock (real time).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from aiohttp_retry.contrib.redis import RedisFleet, SharedCircuitBreaker
from aiohttp_retry.events import BreakerStateChange
from aiohttp_retry.policy.breaker import CLOSED, HALF_OPEN, OPEN, Permit
from tests.redis_server import RedisServer

KEY = "api.example.com"


@pytest.fixture
async def fleets(redis_server: RedisServer) -> AsyncIterator[tuple[list[RedisFleet], list[list[Any]]]]:
    """Two fleets (processes) on one server and prefix, each with the list of events it received."""
    seen: list[list[Any]] = [[], []]
    made = [RedisFleet(url=redis_server.url, interval=60, timeout=0.5, listeners=[box.append]) for box in seen]
    yield made, seen
    for fleet in made:
        await fleet.aclose()


def breakers(fleets: list[RedisFleet], **settings: Any) -> list[SharedCircuitBreaker]:
    settings = {"minimum_throughput": 20, "break_duration": 0.3, **settings}
    return [SharedCircuitBreaker(fleet, **settings) for fleet in fleets]


def outcomes(breaker: SharedCircuitBreaker, tries: int, failures: int) -> None:
    for n in range(tries):
        permit = breaker.acquire(KEY)
        assert isinstance(permit, Permit)
        breaker.record(KEY, permit, failed=n < failures)


async def sync(*fleets: RedisFleet) -> None:
    for fleet in fleets:
        assert await fleet.sync()


async def test_a_breaker_opened_in_one_process_is_followed_by_the_others(
    fleets: tuple[list[RedisFleet], list[list[Any]]],
) -> None:
    (fa, fb), (_, seen_b) = fleets
    a, b = breakers([fa, fb])
    assert isinstance(b.acquire(KEY), Permit)  # b knows the origin, and it is closed
    outcomes(a, 20, 20)
    assert a.state(KEY) == CLOSED  # its own window alone does not open it: the fleet's does, at a sync
    await sync(fa, fb)
    assert (a.state(KEY), b.state(KEY)) == (OPEN, OPEN)
    refused = b.acquire(KEY)
    assert isinstance(refused, float)
    assert 0 < refused <= 0.3
    assert [(e.old, e.new) for e in seen_b if isinstance(e, BreakerStateChange)] == [(CLOSED, OPEN)]


async def test_the_failure_ratio_is_the_fleets(fleets: tuple[list[RedisFleet], list[list[Any]]]) -> None:
    """Neither process has the minimum throughput alone; together they have it, and half their tries failed."""
    (fa, fb), _ = fleets
    a, b = breakers([fa, fb])
    outcomes(a, 10, 6)
    outcomes(b, 10, 5)
    assert (a.state(KEY), b.state(KEY)) == (CLOSED, CLOSED)
    await sync(fa, fb, fa)
    assert (a.state(KEY), b.state(KEY)) == (OPEN, OPEN)


async def test_one_process_failing_alone_does_not_open_the_fleets_breaker(
    fleets: tuple[list[RedisFleet], list[list[Any]]],
) -> None:
    """a's own window is all failures, b's all successes: 20 of 80 in the fleet's window, below the ratio."""
    (fa, fb), (seen_a, _) = fleets
    a, b = breakers([fa, fb])
    outcomes(b, 60, 0)
    outcomes(a, 20, 20)
    await sync(fb, fa, fb, fa)
    assert (a.state(KEY), b.state(KEY)) == (CLOSED, CLOSED)
    assert not [e for e in seen_a if isinstance(e, BreakerStateChange)]


async def test_below_the_ratio_the_fleet_stays_closed(fleets: tuple[list[RedisFleet], list[list[Any]]]) -> None:
    (fa, fb), _ = fleets
    a, b = breakers([fa, fb])
    outcomes(a, 15, 4)
    outcomes(b, 15, 4)
    await sync(fa, fb, fa, fb)
    assert (a.state(KEY), b.state(KEY)) == (CLOSED, CLOSED)


async def test_half_open_probes_are_limited_across_the_fleet(
    fleets: tuple[list[RedisFleet], list[list[Any]]],
) -> None:
    """After the break, one probe in the whole fleet; its success closes the breaker for every process."""
    (fa, fb), (seen_a, seen_b) = fleets
    a, b = breakers([fa, fb])
    b.acquire(KEY)
    outcomes(a, 20, 20)
    await sync(fa, fb)
    await asyncio.sleep(0.35)  # the break passes
    await sync(fa, fb)  # a is granted the fleet's one probe slot; b none
    assert not a.would_refuse(KEY)
    assert b.would_refuse(KEY)
    probe = a.acquire(KEY)
    assert isinstance(probe, Permit)
    assert probe.probe
    assert b.acquire(KEY) == 0.0
    assert a.acquire(KEY) == 0.0  # one probe in flight: a's slot is in use
    a.record(KEY, probe, failed=False)
    assert a.state(KEY) == CLOSED
    await sync(fa, fb)
    assert b.state(KEY) == CLOSED
    assert isinstance(b.acquire(KEY), Permit)
    assert [(e.old, e.new) for e in seen_b if isinstance(e, BreakerStateChange)] == [
        (CLOSED, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, CLOSED),
    ]
    # a took the opening and the half-open state from the fleet; it closed it itself (its probe succeeded)
    assert [(e.old, e.new) for e in seen_a if isinstance(e, BreakerStateChange)] == [(CLOSED, OPEN), (OPEN, HALF_OPEN)]


async def test_a_successful_probe_closes_for_everyone_whatever_the_old_window_held(
    fleets: tuple[list[RedisFleet], list[list[Any]]],
) -> None:
    """Both processes told the fleet their windows' failures while it was half-open; a's probe succeeds: the
    fleet closes and stays closed (those failures belong to the state that ended), as a local breaker does."""
    (fa, fb), (seen_a, seen_b) = fleets
    a, b = breakers([fa, fb])
    outcomes(a, 20, 20)
    outcomes(b, 20, 20)
    await sync(fa, fb)
    await asyncio.sleep(0.35)  # the break passes
    await sync(fa, fb)  # half-open: a is granted the probe slot
    await sync(fa, fb)  # each tells the half-open fleet its window (20 failures)
    probe = a.acquire(KEY)
    assert isinstance(probe, Permit)
    a.record(KEY, probe, failed=False)
    await sync(fa, fb, fa)
    assert (a.state(KEY), b.state(KEY)) == (CLOSED, CLOSED)
    assert isinstance(b.acquire(KEY), Permit)
    assert [(e.old, e.new) for e in seen_b if isinstance(e, BreakerStateChange)][-1] == (HALF_OPEN, CLOSED)
    assert [(e.old, e.new) for e in seen_a if isinstance(e, BreakerStateChange)] == [(CLOSED, OPEN), (OPEN, HALF_OPEN)]


async def test_a_failed_probe_reopens_for_everyone(fleets: tuple[list[RedisFleet], list[list[Any]]]) -> None:
    (fa, fb), _ = fleets
    a, b = breakers([fa, fb], half_open_probes=2)
    b.acquire(KEY)
    outcomes(a, 20, 20)
    await sync(fa, fb)
    await asyncio.sleep(0.35)
    await sync(fb, fa)  # b syncs first after the break: it takes both slots
    first, second = b.acquire(KEY), b.acquire(KEY)
    assert isinstance(first, Permit)
    assert isinstance(second, Permit)
    assert a.acquire(KEY) == 0.0
    b.record(KEY, first, failed=True)
    assert b.state(KEY) == OPEN
    await sync(fb, fa)
    assert a.state(KEY) == OPEN
    assert isinstance(a.acquire(KEY), float)


async def test_without_redis_each_process_is_a_local_breaker(
    fleets: tuple[list[RedisFleet], list[list[Any]]], redis_server: RedisServer
) -> None:
    (fa, _), _ = fleets
    (a,) = breakers([fa], minimum_throughput=5)
    a.acquire(KEY)
    await sync(fa)
    redis_server.stop()
    assert not await fa.sync()
    outcomes(a, 5, 5)
    assert a.state(KEY) == OPEN
    await asyncio.sleep(0.35)
    probe = a.acquire(KEY)  # local rules: the break is over, one probe, no fleet slot needed
    assert isinstance(probe, Permit)
    assert probe.probe


async def test_the_hash_holds_counts_and_state_only_and_expires(
    fleets: tuple[list[RedisFleet], list[list[Any]]], redis_server: RedisServer
) -> None:
    (fa, _), _ = fleets
    (a,) = breakers([fa])
    outcomes(a, 3, 1)
    await sync(fa)
    async with Redis.from_url(redis_server.url) as redis:
        assert await redis.keys("*") == [f"aiohttp_retry:breaker:{KEY}".encode()]
        assert 0 < await redis.pttl(f"aiohttp_retry:breaker:{KEY}") <= 20_000
        fields = await redis.hgetall(f"aiohttp_retry:breaker:{KEY}")
    assert fields[f"t:{a.process}".encode()] == b"3"
    assert fields[f"f:{a.process}".encode()] == b"1"
    assert {name.split(b":")[0] for name in fields} == {b"t", b"f", b"s"}
