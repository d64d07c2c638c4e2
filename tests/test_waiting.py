"""bounded(): a time limit on an awaitable that never loses the caller's cancellation."""

from __future__ import annotations

import asyncio
import sys

import pytest

from aiohttp_retry.aiohttp_codec import within
from aiohttp_retry.engine.concurrency import ConcurrencyLimiter
from aiohttp_retry.engine.limits import Limits
from aiohttp_retry.engine.waiting import bounded


async def cancelled_as_it_finishes(
    wait: object, result: object, hops: int = 1
) -> tuple[asyncio.Task[object], list[object]]:
    """A task awaiting ``wait(future, 10, unused=...)``, cancelled ``hops`` loop iterations after ``future`` got
    ``result``, before the task could run again; the task and what ``unused`` was given."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[object] = loop.create_future()
    given: list[object] = []
    task = asyncio.ensure_future(wait(future, 10, unused=given.append))  # type: ignore[operator]
    await asyncio.sleep(0)  # the task now waits
    future.set_result(result)
    for _ in range(hops):
        await asyncio.sleep(0)  # the answer travels: the task is woken, not yet run
    task.cancel()
    return task, given


@pytest.mark.parametrize("hops", [0, 1])
@pytest.mark.looptime
async def test_a_cancellation_arriving_with_the_answer_is_not_lost(hops: int) -> None:
    task, given = await cancelled_as_it_finishes(bounded, "slot", hops)
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert given == ["slot"]  # the result nobody will use is handed back


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="asyncio.wait_for was rewritten in Python 3.12")
@pytest.mark.looptime
async def test_asyncio_wait_for_loses_that_cancellation_on_this_python() -> None:
    """Why bounded() exists: the same race through asyncio.wait_for returns the result, the cancellation gone."""

    async def wait_for(future: asyncio.Future[object], seconds: float, unused: object) -> object:
        return await asyncio.wait_for(future, seconds)

    task, _ = await cancelled_as_it_finishes(wait_for, "slot")
    assert await task == "slot"


@pytest.mark.looptime
async def test_a_cancellation_while_waiting_cancels_the_awaitable() -> None:
    started = asyncio.Event()
    ended: list[str] = []
    given: list[object] = []

    async def work() -> str:
        started.set()
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise
        return "late"

    task = asyncio.ensure_future(bounded(work(), 10, unused=given.append))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert ended == ["cancelled"]
    assert given == []


@pytest.mark.looptime
async def test_the_time_running_out_raises_timeout_and_cancels_the_awaitable() -> None:
    loop = asyncio.get_running_loop()
    ended: list[float] = []

    async def work() -> None:
        try:
            await asyncio.sleep(100)
        finally:
            ended.append(loop.time())

    start = loop.time()
    with pytest.raises(TimeoutError):
        await bounded(work(), 2.5)
    assert ended == [pytest.approx(start + 2.5)]


@pytest.mark.looptime
async def test_an_awaitable_that_finishes_while_being_cancelled_for_time_gives_its_result() -> None:
    async def stubborn() -> str:
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            return "finished anyway"
        return "not reached"

    assert await bounded(stubborn(), 1) == "finished anyway"


@pytest.mark.looptime
async def test_results_and_errors_pass_through() -> None:
    async def answer() -> int:
        await asyncio.sleep(1)
        return 42

    async def fail() -> None:
        await asyncio.sleep(1)
        raise LookupError("no such key")

    assert await bounded(answer(), 5) == 42
    with pytest.raises(LookupError, match="no such key"):
        await bounded(fail(), 5)


@pytest.mark.looptime
async def test_an_error_raised_while_cancelled_for_time_is_a_timeout() -> None:
    async def grumpy() -> None:
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            raise LookupError("cleanup failed") from None

    with pytest.raises(TimeoutError):
        await bounded(grumpy(), 1)


@pytest.mark.looptime
async def test_within_keeps_a_cancellation_arriving_with_the_answer() -> None:
    """The per-try limit (within) on this Python: the same race ends in CancelledError too."""

    async def wait(future: asyncio.Future[object], seconds: float, unused: object) -> object:
        return await within(future, seconds)

    task, _ = await cancelled_as_it_finishes(wait, "response", hops=0)
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.looptime
async def test_a_try_cancelled_as_its_slot_is_handed_over_gives_the_slot_back() -> None:
    """A try waiting for a concurrency slot with a deadline, cancelled in the loop iteration in which the slot
    comes to it: the slot is free again, not held by a try that never runs."""
    limits = Limits(concurrency=ConcurrencyLimiter(1))
    loop = asyncio.get_running_loop()
    url = "http://example.test/"
    held = limits.admit("http://example.test", url, loop.time(), loop.time() + 60)
    assert isinstance(held, tuple)
    waiting = limits.admit("http://example.test", url, loop.time(), loop.time() + 60)
    assert not isinstance(waiting, tuple)
    task = asyncio.ensure_future(waiting)
    await asyncio.sleep(0)  # the second try waits in the pool's queue
    (pool,) = held
    ConcurrencyLimiter.leave(held)  # the first try ends: its slot goes to the second...
    await asyncio.sleep(0)  # ...whose wait is done, its task woken but not yet run
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert (pool.busy, len(pool.waiters)) == (0, 0)
