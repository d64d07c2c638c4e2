"""Events and the stateful-policy protocols, as the engine uses them (in-memory transport, no sockets)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import aiohttp_retry.events as events_module
from aiohttp_retry import CircuitOpenError, ErrorKind, ExponentialRetry, Hedging, StopReason
from aiohttp_retry.events import (
    BreakerStateChange,
    BudgetRefused,
    GaveUp,
    Listeners,
    RetryScheduled,
    TryFinished,
    TryStarted,
)
from aiohttp_retry.observe.logging import LoggingListener
from aiohttp_retry.policy.breaker import Permit
from aiohttp_retry.policy.protocols import CircuitBreakerLike, RetryBudgetLike
from aiohttp_retry.retry_options import check_breaker, check_budget
from tests.memory_transport import (
    KEY,
    LOGGER_NAME,
    URL,
    Dropped,
    MemoryExchange,
    Recorder,
    SpyBudget,
    collect,
    drive,
    log_records,
)


def library_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """ERROR records of the library's own logger."""
    return [r for r in caplog.records if r.name == "aiohttp_retry" and r.levelno == logging.ERROR]


# -- listeners ----------------------------------------------------------------------------------------


async def test_events_carry_the_attempt_numbers_and_causes() -> None:
    """Each try's events name its attempt; RetryScheduled gives "status 503" or the error class as the cause."""
    error = Dropped("reset by peer")
    exchange = MemoryExchange([503, error, 200])
    listeners, seen = collect()
    response = await drive(ExponentialRetry(attempts=3, start_timeout=0), exchange, listeners=listeners)
    assert response.status == 200
    assert seen.kinds() == [
        "TryStarted",
        "TryFinished",
        "RetryScheduled",
        "TryStarted",
        "TryFinished",
        "RetryScheduled",
        "TryStarted",
        "TryFinished",
    ]
    assert [tuple(e) for e in seen.of(TryStarted)] == [(n, 3, "GET", URL, KEY) for n in (1, 2, 3)]
    finished = [(e.attempt, e.status, e.error, e.error_kind, e.final) for e in seen.of(TryFinished)]
    assert finished == [
        (1, 503, None, None, False),
        (2, None, error, ErrorKind.TRANSPORT, False),
        (3, 200, None, None, True),
    ]
    scheduled = [(e.attempt, e.attempts, e.cause, e.delay, e.retry_after) for e in seen.of(RetryScheduled)]
    assert scheduled == [(1, 3, "status 503", 0.0, False), (2, 3, "Dropped", 0.0, False)]


@pytest.mark.looptime
async def test_try_durations_and_elapsed_follow_the_loop_clock() -> None:
    """TryFinished.duration is the try's own time and elapsed the call's, on the loop clock."""
    from tests.memory_transport import Delay  # noqa: PLC0415 - only this test needs it

    exchange = MemoryExchange([Delay(2, 503), Delay(3)])
    listeners, seen = collect()
    await drive(ExponentialRetry(start_timeout=1), exchange, listeners=listeners)
    finished = seen.of(TryFinished)
    assert [e.duration for e in finished] == pytest.approx([2.0, 3.0])
    assert [e.elapsed for e in finished] == pytest.approx([2.0, 6.0])


async def test_a_listener_that_raises_is_logged_once_and_the_call_succeeds(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A raising listener costs one ERROR line on the aiohttp_retry logger; the call and other listeners go on."""
    monkeypatch.setattr(events_module, "_failed", {})
    caplog.set_level(logging.ERROR, logger="aiohttp_retry")

    def broken(_event: object) -> None:
        msg = "listener bug"
        raise RuntimeError(msg)

    listeners, seen = collect(extra=[broken])
    exchange = MemoryExchange([503, 503, 200])
    response = await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners)
    assert response.status == 200
    assert len(seen.events) == 8  # every event still reached the other listener
    errors = library_errors(caplog)
    assert len(errors) == 1
    assert "raised" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], RuntimeError)


class _CountingHandler(logging.Handler):
    """Counts records without keeping them (a kept record's traceback would keep its listener alive)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, _record: logging.LogRecord) -> None:
        self.count += 1


async def test_every_new_listener_that_raises_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty distinct raising listeners, one per call, give twenty ERROR lines: none is mistaken for an earlier one."""
    handler = _CountingHandler()
    logger = logging.getLogger("aiohttp_retry")
    monkeypatch.setattr(logger, "propagate", False)  # pytest's own capture would keep every listener alive
    logger.addHandler(handler)
    try:
        for _ in range(20):
            listener = _Broken()
            await drive(ExponentialRetry(), MemoryExchange([200]), listeners=Listeners([listener]))
            del listener  # freed at once: the next listener may take its address
    finally:
        logger.removeHandler(handler)
    assert handler.count == 20


class _Broken:
    """A listener that always raises."""

    def __call__(self, _event: object) -> None:
        msg = "listener bug"
        raise RuntimeError(msg)


async def test_an_async_listeners_coroutine_runs() -> None:
    """A listener returning a coroutine has it run as a task: it sees every event of the call."""
    seen: list[Any] = []

    async def listener(event: object) -> None:
        await asyncio.sleep(0)
        seen.append(event)

    exchange = MemoryExchange([503, 200])
    await drive(ExponentialRetry(start_timeout=0), exchange, listeners=Listeners([listener]))
    for _ in range(5):
        await asyncio.sleep(0)
    assert sorted(type(e).__name__ for e in seen) == sorted(
        ["TryStarted", "TryFinished", "RetryScheduled", "TryStarted", "TryFinished"]
    )


async def test_an_async_listener_that_fails_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An async listener whose coroutine raises is logged (once) and breaks nothing."""
    monkeypatch.setattr(events_module, "_failed", {})
    caplog.set_level(logging.ERROR, logger="aiohttp_retry")

    async def listener(_event: object) -> None:
        msg = "async listener bug"
        raise RuntimeError(msg)

    response = await drive(
        ExponentialRetry(start_timeout=0), MemoryExchange([503, 200]), listeners=Listeners([listener])
    )
    for _ in range(5):
        await asyncio.sleep(0)
    assert response.status == 200
    errors = library_errors(caplog)
    assert len(errors) == 1
    assert isinstance(errors[0].exc_info[1], RuntimeError)  # type: ignore[index]


def test_listeners_refuse_what_cannot_be_called() -> None:
    """Listeners() names the bad entry in a TypeError."""
    with pytest.raises(TypeError, match="listeners must hold callables"):
        Listeners([42])  # type: ignore[list-item]


async def test_retrying_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """The LoggingListener writes one INFO line per retry with its cause and try numbers."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    listeners = Listeners((), LoggingListener(logging.getLogger(LOGGER_NAME)))
    await drive(ExponentialRetry(start_timeout=0), MemoryExchange([503, 200]), listeners=listeners)
    assert [(r.levelno, r.getMessage()) for r in log_records(caplog)] == [
        (logging.INFO, f"Retrying GET {URL} after status 503 in 0.000 s (try 1 of 3)")
    ]


# -- a budget and a breaker of the user's own ---------------------------------------------------------


async def test_a_budget_of_the_users_own_is_asked() -> None:
    """A hand-written budget (no library base class) counts the call and grants or refuses each retry."""
    budget = SpyBudget(allow=1)
    assert isinstance(budget, RetryBudgetLike)
    assert check_budget(budget) is budget
    exchange = MemoryExchange([503, 503, 200])
    listeners, seen = collect()
    response = await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners, budget=budget)
    assert response is exchange.responses[1]
    assert budget.calls == [KEY]
    assert budget.retries == [KEY, KEY]
    assert seen.one(BudgetRefused).attempt == 3
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries) == (StopReason.BUDGET_SPENT, 2)


class ToyBreaker:
    """A breaker written from the protocol alone: starts half-open, one probe decides."""

    def __init__(self) -> None:
        self.state = "half_open"
        self.generation = 1
        self.pending_change: BreakerStateChange | None = BreakerStateChange(KEY, "open", "half_open", 1.0)
        self.released: list[Permit] = []
        self.outcomes: list[bool] = []

    def acquire(self, _key: str) -> Permit | float:
        if self.state == "open":
            return 7.0
        change, self.pending_change = self.pending_change, None
        return Permit(self.generation, probe=True, change=change)

    def record(self, key: str, _permit: Permit, *, failed: bool) -> BreakerStateChange:
        self.outcomes.append(failed)
        old, self.state = self.state, "open" if failed else "closed"
        return BreakerStateChange(key, old, self.state, 2.0)

    def release(self, _key: str, permit: Permit) -> None:
        self.released.append(permit)

    def would_refuse(self, _key: str) -> bool:
        return self.state == "open"


@pytest.mark.parametrize("hedging", [None, Hedging(delay=0.1)], ids=["sequential", "hedged"])
async def test_a_breaker_of_the_users_own_reports_its_state_changes(
    hedging: Hedging | None, caplog: pytest.LogCaptureFixture
) -> None:
    """The state changes a hand-written breaker returns (Permit.change, record) reach listeners and the log."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    breaker = ToyBreaker()
    assert isinstance(breaker, CircuitBreakerLike)
    assert check_breaker(breaker) is breaker
    listeners, seen = collect(log=True)
    response = await drive(
        ExponentialRetry(hedging=hedging, start_timeout=0), MemoryExchange([200]), listeners=listeners, breaker=breaker
    )
    assert response.status == 200
    changes = [(e.key, e.old, e.new) for e in seen.of(BreakerStateChange)]
    assert changes == [(KEY, "open", "half_open"), (KEY, "half_open", "closed")]
    assert breaker.outcomes == [False]
    lines = [r.getMessage() for r in log_records(caplog) if r.getMessage().startswith("Circuit breaker")]
    assert lines == [f"Circuit breaker for {KEY}: open -> half_open", f"Circuit breaker for {KEY}: half_open -> closed"]


async def test_a_breaker_of_the_users_own_opens_and_refuses() -> None:
    """A failed probe of a hand-written breaker stops the call (BREAKER_OPEN); the next call is refused."""
    breaker = ToyBreaker()
    listeners, seen = collect()
    response = await drive(
        ExponentialRetry(start_timeout=0), MemoryExchange([503, 200]), listeners=listeners, breaker=breaker
    )
    assert response.status == 503
    assert [(e.old, e.new) for e in seen.of(BreakerStateChange)] == [("open", "half_open"), ("half_open", "open")]
    assert seen.one(GaveUp).reason is StopReason.BREAKER_OPEN
    exchange = MemoryExchange([200])
    with pytest.raises(CircuitOpenError) as raised:
        await drive(ExponentialRetry(), exchange, breaker=breaker)
    assert raised.value.retry_in == 7.0
    assert exchange.sends == []


def test_recorder_fails_on_a_missing_event() -> None:
    """The test helper itself: Recorder.one fails when the event is absent, so assertions built on it can fail."""
    recorder = Recorder()
    with pytest.raises(AssertionError):
        recorder.one(GaveUp)
