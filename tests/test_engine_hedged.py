"""The hedged strategy, driven through the in-memory transport on virtual time (no sockets)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from aiohttp_retry import (
    CircuitBreaker,
    CircuitOpenError,
    ErrorKind,
    ExponentialRetry,
    Hedging,
    RetryBudget,
    RetryTimeoutError,
    StopReason,
)
from aiohttp_retry.events import BreakerStateChange, BudgetRefused, GaveUp, HedgeFired, HedgeWon, TryStarted
from aiohttp_retry.policy.breaker import Permit
from tests.memory_transport import (
    KEY,
    URL,
    Delay,
    Dropped,
    FakeClock,
    MemoryExchange,
    MemoryResponse,
    SpyBudget,
    TlsFailed,
    collect,
    drive,
    gave_up_line,
)

pytestmark = pytest.mark.looptime


def hedged(attempts: int = 3, delay: float = 0.1, **common: Any) -> ExponentialRetry:
    """Options that hedge every ``delay`` s, with no backoff of their own."""
    return ExponentialRetry(attempts=attempts, start_timeout=0, hedging=Hedging(delay=delay), **common)


def now() -> float:
    return asyncio.get_running_loop().time()


def other_tasks() -> set[asyncio.Task[Any]]:
    """Tasks still running besides the test's own."""
    return asyncio.all_tasks() - {asyncio.current_task()}


# -- winning ------------------------------------------------------------------------------------------


async def test_a_hedge_that_answers_first_wins() -> None:
    """Try 2 starts after the hedge delay, answers first and is returned; try 1 is cancelled; no task is left."""
    started = now()
    exchange = MemoryExchange([Delay(1), Delay(0.2)])
    listeners, seen = collect()
    response = await drive(hedged(attempts=2), exchange, listeners=listeners)
    assert response.attempt == 2
    assert now() - started == pytest.approx(0.3)
    assert [s.at - started for s in exchange.sends] == [0, pytest.approx(0.1)]
    fired = seen.one(HedgeFired)
    assert (fired.attempt, fired.method, fired.url, fired.key) == (2, "GET", URL, KEY)
    assert fired.after == pytest.approx(0.1)
    won = seen.one(HedgeWon)
    assert tuple(won) == (2, 2, "GET", URL, KEY)
    assert [e.attempt for e in seen.of(TryStarted)] == [1, 2]
    assert exchange.in_flight == 0
    assert other_tasks() == set()


async def test_try_one_answering_in_time_fires_no_hedge() -> None:
    """An answer before the hedge delay: one try, no HedgeFired, no HedgeWon."""
    exchange = MemoryExchange([Delay(0.05), 200])
    listeners, seen = collect()
    response = await drive(hedged(), exchange, listeners=listeners)
    assert response.attempt == 1
    assert len(exchange.sends) == 1
    assert seen.of(HedgeFired) == []
    assert seen.of(HedgeWon) == []


async def test_try_one_winning_after_a_hedge_is_reported() -> None:
    """Try 1 answering while a hedge runs is the HedgeWon: attempt 1 of 2 started."""
    exchange = MemoryExchange([Delay(0.5), Delay(1)])
    listeners, seen = collect()
    response = await drive(hedged(attempts=2), exchange, listeners=listeners)
    assert response.attempt == 1
    assert tuple(seen.one(HedgeWon))[:2] == (1, 2)
    assert other_tasks() == set()


async def test_a_fast_failure_starts_the_next_try_at_once_and_is_released() -> None:
    """A 503 starts the next try without waiting for the hedge delay, and is drained while that try runs."""
    started = now()
    exchange = MemoryExchange([Delay(0.02, 503), Delay(0.5)])
    response = await drive(hedged(attempts=2, delay=0.3), exchange)
    assert response.attempt == 2
    assert exchange.sends[1].at - started == pytest.approx(0.02)
    first = exchange.responses[0]
    assert (first.drained, first.released) == (True, True)
    assert exchange.unreleased(response) == []


async def test_answers_arriving_together_release_the_loser() -> None:
    """When two tries answer at the same moment, the one not returned is released before the call returns."""
    exchange = MemoryExchange([Delay(0.5), Delay(0.25)])  # both answer at 0.5 s (exact in binary)
    response = await drive(hedged(attempts=2, delay=0.25), exchange)
    assert len(exchange.responses) == 2
    assert exchange.unreleased(response) == []
    assert not response.released
    assert other_tasks() == set()


async def test_hedges_are_paid_from_the_budget() -> None:
    """Each hedge asks the budget for a retry; once refused, no further hedge starts (BudgetRefused)."""
    budget = SpyBudget(allow=1)
    exchange = MemoryExchange([Delay(1), Delay(1), Delay(1)])
    listeners, seen = collect()
    response = await drive(hedged(attempts=3), exchange, listeners=listeners, budget=budget)
    assert response.attempt == 1
    assert budget.calls == [KEY]
    assert budget.retries == [KEY, KEY]
    assert len(exchange.sends) == 2
    assert seen.one(BudgetRefused).attempt == 3
    assert seen.of(GaveUp) == []


async def test_a_post_is_not_hedged() -> None:
    """Hedging options on a non-idempotent request run the sequential strategy: one try at a time."""
    exchange = MemoryExchange([Delay(0.5, 503), 200], method="POST")
    listeners, seen = collect()
    response = await drive(hedged(), exchange, listeners=listeners)
    assert response.attempt == 2
    assert exchange.sends[1].at - exchange.sends[0].at == pytest.approx(0.5)
    assert seen.of(HedgeFired) == []


async def test_an_exchange_that_cannot_hedge_runs_sequentially() -> None:
    """An exchange with hedgeable=False is never hedged, whatever the options say."""
    exchange = MemoryExchange([Delay(0.5), 200], hedgeable=False)
    response = await drive(hedged(), exchange)
    assert response.attempt == 1
    assert len(exchange.sends) == 1


# -- a test per stop reason ---------------------------------------------------------------------------


async def test_last_try_returns_the_last_response(debug_log: pytest.LogCaptureFixture) -> None:
    """LAST_TRY: both tries fail with 503; the last is returned, the first released, a WARNING written."""
    exchange = MemoryExchange([503, 503])
    listeners, seen = collect(log=True)
    response = await drive(hedged(attempts=2), exchange, listeners=listeners)
    assert response is exchange.responses[1]
    assert exchange.unreleased(response) == []
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status, gave_up.error) == (StopReason.LAST_TRY, 2, 503, None)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "last try" in record.getMessage()


async def test_last_try_raises_the_last_error() -> None:
    """LAST_TRY with errors: the last Dropped is raised."""
    errors = [Dropped(), Dropped()]
    exchange = MemoryExchange(errors)
    listeners, seen = collect()
    with pytest.raises(Dropped) as raised:
        await drive(hedged(attempts=2), exchange, listeners=listeners)
    assert raised.value is errors[1]
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.error, gave_up.error_kind) == (
        StopReason.LAST_TRY,
        2,
        errors[1],
        ErrorKind.TRANSPORT,
    )


async def test_not_retryable_error_cancels_the_other_tries(debug_log: pytest.LogCaptureFixture) -> None:
    """NOT_RETRYABLE: a TLS failure of the hedge ends the call at once; try 1 is cancelled; DEBUG line."""
    error = TlsFailed()
    exchange = MemoryExchange([Delay(1), Delay(0.05, error)])
    listeners, seen = collect(log=True)
    with pytest.raises(TlsFailed):
        await drive(hedged(), exchange, listeners=listeners)
    assert exchange.in_flight == 0
    assert other_tasks() == set()
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.error) == (StopReason.NOT_RETRYABLE, 2, error)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.DEBUG
    assert "not retryable" in record.getMessage()


async def test_retry_after_too_long_stops_hedging(debug_log: pytest.LogCaptureFixture) -> None:
    """RETRY_AFTER_TOO_LONG: a 503 asking for 120 s starts no further try and is returned."""
    exchange = MemoryExchange([MemoryResponse(503, {"Retry-After": "120"}), 200])
    listeners, seen = collect(log=True)
    response = await drive(hedged(), exchange, listeners=listeners)
    assert response.status == 503
    assert not response.released
    assert len(exchange.sends) == 1
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.RETRY_AFTER_TOO_LONG, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "Retry-After too long" in record.getMessage()


async def test_retry_after_within_the_limit_still_leads_to_another_try() -> None:
    """A 503 with an acceptable Retry-After (1 s) and no other try running is followed by try 2, not returned."""
    exchange = MemoryExchange([MemoryResponse(503, {"Retry-After": "1"}), 200, 200])
    listeners, seen = collect()
    response = await drive(hedged(attempts=3), exchange, listeners=listeners)
    assert [s.attempt for s in exchange.sends] == [1, 2]
    assert response.status == 200
    assert seen.of(GaveUp) == []


async def test_deadline_shorter_than_the_hedge_delay(debug_log: pytest.LogCaptureFixture) -> None:
    """DEADLINE: try 1 is cut at total_timeout before any hedge; RetryTimeoutError names total_timeout, 1 try."""
    started = now()
    exchange = MemoryExchange([Delay(5), Delay(5)])
    listeners, seen = collect(log=True)
    with pytest.raises(RetryTimeoutError) as raised:
        await drive(hedged(delay=0.5, total_timeout=0.3), exchange, listeners=listeners)
    assert (raised.value.limit, raised.value.tries) == ("total_timeout", 1)
    assert now() - started == pytest.approx(0.3)
    assert len(exchange.sends) == 1
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.error) == (StopReason.DEADLINE, 1, raised.value)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "deadline" in record.getMessage()


async def test_no_try_starts_after_the_deadline() -> None:
    """Hedges every 0.4 s under a 1 s deadline: tries start at 0, 0.4, 0.8 only, each limited to the deadline."""
    started = now()
    exchange = MemoryExchange([Delay(5)] * 5)
    listeners, seen = collect()
    with pytest.raises(RetryTimeoutError) as raised:
        await drive(hedged(attempts=5, delay=0.4, total_timeout=1), exchange, listeners=listeners)
    assert raised.value.limit == "total_timeout"
    assert raised.value.tries == 3
    assert [s.at - started for s in exchange.sends] == [0, pytest.approx(0.4), pytest.approx(0.8)]
    assert all(s.at - started + s.time_left == pytest.approx(1.0) for s in exchange.sends)  # type: ignore[operator]
    assert now() - started == pytest.approx(1.0)
    assert seen.one(GaveUp).reason is StopReason.DEADLINE
    assert other_tasks() == set()


async def test_breaker_opening_stops_hedging(debug_log: pytest.LogCaptureFixture) -> None:
    """BREAKER_OPEN: try 1's 503 opens the breaker; no hedge starts and the 503 is returned."""
    breaker = CircuitBreaker(minimum_throughput=1, failure_ratio=0.5, clock=FakeClock())
    exchange = MemoryExchange([503, 200])
    listeners, seen = collect(log=True)
    response = await drive(hedged(), exchange, listeners=listeners, breaker=breaker)
    assert response.status == 503
    assert len(exchange.sends) == 1
    assert seen.one(BreakerStateChange).new == "open"
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.BREAKER_OPEN, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "breaker open" in record.getMessage()


async def test_open_breaker_refuses_a_hedged_call() -> None:
    """BREAKER_OPEN before the call: CircuitOpenError, nothing sent, GaveUp with 0 tries."""
    breaker = CircuitBreaker(minimum_throughput=1, failure_ratio=0.5, clock=FakeClock())
    breaker.record(KEY, breaker.acquire(KEY), failed=True)  # type: ignore[arg-type]
    exchange = MemoryExchange([200])
    listeners, seen = collect()
    with pytest.raises(CircuitOpenError):
        await drive(hedged(), exchange, listeners=listeners, breaker=breaker)
    assert exchange.sends == []
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries) == (StopReason.BREAKER_OPEN, 0)


async def test_budget_spent_stops_hedging(debug_log: pytest.LogCaptureFixture) -> None:
    """BUDGET_SPENT: a budget with nothing to spend refuses try 2; the 503 of try 1 is returned."""
    exchange = MemoryExchange([503, 200])
    listeners, seen = collect(log=True)
    budget = RetryBudget(ratio=0, min_per_second=0)
    response = await drive(hedged(), exchange, listeners=listeners, budget=budget)
    assert response.status == 503
    assert len(exchange.sends) == 1
    assert seen.one(BudgetRefused).attempt == 2
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.BUDGET_SPENT, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "budget spent" in record.getMessage()


def _one_shot(attempt: int) -> str | None:
    return "the stream was consumed by try 1" if attempt > 1 else None


async def test_body_not_replayable_ends_with_the_last_response(debug_log: pytest.LogCaptureFixture) -> None:
    """BODY_NOT_REPLAYABLE (pinned): the hedged strategy returns the last response, raising nothing of its own."""
    exchange = MemoryExchange([503, 200], resend_refusal=_one_shot)
    listeners, seen = collect(log=True)
    response = await drive(hedged(), exchange, listeners=listeners)
    assert response.status == 503
    assert not response.released
    assert len(exchange.sends) == 1
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.BODY_NOT_REPLAYABLE, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "body not replayable" in record.getMessage()


async def test_body_not_replayable_ends_with_the_last_error() -> None:
    """BODY_NOT_REPLAYABLE (pinned): after a Dropped try 1 the hedged strategy raises that error itself."""
    error = Dropped()
    exchange = MemoryExchange([error, 200], resend_refusal=_one_shot)
    listeners, seen = collect()
    with pytest.raises(Dropped) as raised:
        await drive(hedged(), exchange, listeners=listeners)
    assert raised.value is error
    assert seen.one(GaveUp).reason is StopReason.BODY_NOT_REPLAYABLE


async def test_cancelled_during_a_hedge(debug_log: pytest.LogCaptureFixture) -> None:
    """CANCELLED: cancelling while two tries run cancels both; no task is left; DEBUG line."""
    exchange = MemoryExchange([Delay(10), Delay(10)])
    listeners, seen = collect(log=True)
    task = asyncio.ensure_future(drive(hedged(attempts=2), exchange, listeners=listeners))
    await asyncio.sleep(0.5)
    assert exchange.in_flight == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert exchange.in_flight == 0
    assert other_tasks() == set()
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries) == (StopReason.CANCELLED, 2)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.DEBUG
    assert "cancelled" in record.getMessage()


async def test_cancelled_while_draining_a_failed_response_releases_it() -> None:
    """Cancelling a hedged call while it drains a failed try's body releases that response and ends the hedge."""
    slow = MemoryResponse(503, body_delay=10)
    exchange = MemoryExchange([slow, Delay(10)])
    task = asyncio.ensure_future(drive(hedged(attempts=2), exchange))
    await asyncio.sleep(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slow.released
    assert exchange.in_flight == 0
    assert other_tasks() == set()


async def test_a_slow_drain_does_not_hold_back_the_winning_answer() -> None:
    """A hedge's 200 is returned when it arrives, not after the engine finishes draining try 1's slow 503 body."""
    started = now()
    slow = MemoryResponse(503, body_delay=10)
    exchange = MemoryExchange([slow, Delay(0.1)])
    response = await drive(hedged(attempts=2), exchange)
    assert response.attempt == 2
    assert now() - started == pytest.approx(0.1)
    assert slow.released


class _RefusesSecondTry:
    """A breaker whose would_refuse never objects, but whose acquire refuses every try after the first."""

    def __init__(self) -> None:
        self.granted = 0

    def acquire(self, _key: str) -> Permit | float:
        self.granted += 1
        return Permit(0, probe=False) if self.granted == 1 else 3.0

    def record(self, _key: str, _permit: Permit, *, failed: bool) -> None:  # noqa: ARG002 - the protocol names it
        return None

    def release(self, _key: str, _permit: Permit) -> None:
        return None

    def would_refuse(self, _key: str) -> bool:
        return False


async def test_a_hedge_refused_at_acquire_releases_the_kept_response() -> None:
    """A breaker refusing a hedge only at acquire raises CircuitOpenError; try 1's 503 is released, no task left."""
    exchange = MemoryExchange([503, 200])
    listeners, seen = collect()
    with pytest.raises(CircuitOpenError):
        await drive(hedged(), exchange, listeners=listeners, breaker=_RefusesSecondTry())
    assert exchange.unreleased() == []
    assert other_tasks() == set()
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries) == (StopReason.BREAKER_OPEN, 1)
