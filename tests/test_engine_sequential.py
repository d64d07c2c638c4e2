"""The sequential strategy and the fast path, driven through the in-memory transport (no sockets)."""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any

import pytest

from aiohttp_retry import (
    BodyNotReplayableError,
    CircuitBreaker,
    CircuitOpenError,
    ErrorKind,
    ExponentialRetry,
    Hedging,
    RetryBudget,
    RetryTimeoutError,
    StopReason,
)
from aiohttp_retry.engine import inbound_deadline, plan_of, set_inbound_deadline
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
from tests.memory_transport import (
    KEY,
    LOGGER_NAME,
    URL,
    Delay,
    Dropped,
    FakeClock,
    HttpError,
    MemoryExchange,
    MemoryResponse,
    SpyBreaker,
    SpyBudget,
    TimedOut,
    TlsFailed,
    collect,
    drive,
    gave_up_line,
    log_records,
)

# The module of the engine's entry, whose names the fast-path tests replace.
run_module = importlib.import_module("aiohttp_retry.engine.entry")


# -- a test per stop reason ---------------------------------------------------------------------------


async def test_last_try_returns_the_last_response(debug_log: pytest.LogCaptureFixture) -> None:
    """LAST_TRY: three 503s return the third, GaveUp says so, a WARNING names "last try"."""
    exchange = MemoryExchange([503, 503, 503])
    listeners, seen = collect(log=True)
    response = await drive(ExponentialRetry(attempts=3, start_timeout=0), exchange, listeners=listeners)
    assert response is exchange.responses[2]
    assert exchange.response is response
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.attempts, gave_up.status, gave_up.error) == (
        StopReason.LAST_TRY,
        3,
        3,
        503,
        None,
    )
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "after 3 tries: last try; last outcome: status 503" in record.getMessage()


async def test_last_try_raises_the_last_error(debug_log: pytest.LogCaptureFixture) -> None:
    """LAST_TRY with errors: the third Dropped is raised, noted, and reported with its kind."""
    errors = [Dropped("one"), Dropped("two"), Dropped("three")]
    exchange = MemoryExchange(errors)
    listeners, seen = collect(log=True)
    with pytest.raises(Dropped) as raised:
        await drive(ExponentialRetry(attempts=3, start_timeout=0), exchange, listeners=listeners)
    assert raised.value is errors[2]
    assert "aiohttp_retry: gave up after 3 tries: last try" in getattr(raised.value, "__notes__", [])
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status, gave_up.error, gave_up.error_kind) == (
        StopReason.LAST_TRY,
        3,
        None,
        errors[2],
        ErrorKind.TRANSPORT,
    )
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "last try" in record.getMessage()


async def test_not_retryable_status_for_a_method_not_retried(debug_log: pytest.LogCaptureFixture) -> None:
    """NOT_RETRYABLE: a 503 to a POST the options do not retry is returned at once, logged at DEBUG."""
    exchange = MemoryExchange([503, 200], method="POST")
    listeners, seen = collect(log=True)
    response = await drive(ExponentialRetry(methods={"GET"}, start_timeout=0), exchange, listeners=listeners)
    assert response.status == 503
    assert len(exchange.sends) == 1
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.NOT_RETRYABLE, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.DEBUG
    assert "not retryable" in record.getMessage()


async def test_not_retryable_error_is_raised_at_once(debug_log: pytest.LogCaptureFixture) -> None:
    """NOT_RETRYABLE: a TLS failure is never retried by default; GaveUp carries it, at DEBUG."""
    error = TlsFailed("bad certificate")
    exchange = MemoryExchange([error, 200])
    listeners, seen = collect(log=True)
    with pytest.raises(TlsFailed):
        await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners)
    assert len(exchange.sends) == 1
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.error, gave_up.error_kind) == (
        StopReason.NOT_RETRYABLE,
        1,
        error,
        ErrorKind.TLS,
    )
    record = gave_up_line(debug_log)
    assert record.levelno == logging.DEBUG
    assert "not retryable" in record.getMessage()


@pytest.mark.looptime
async def test_retry_after_too_long_returns_at_once(debug_log: pytest.LogCaptureFixture) -> None:
    """RETRY_AFTER_TOO_LONG: a 503 asking for 120 s (max_wait 60) is returned without sleeping."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    exchange = MemoryExchange([MemoryResponse(503, {"Retry-After": "120"}), 200])
    listeners, seen = collect(log=True)
    response = await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners)
    assert response.status == 503
    assert not response.released
    assert loop.time() == started
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.RETRY_AFTER_TOO_LONG, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "Retry-After too long" in record.getMessage()


@pytest.mark.looptime
async def test_deadline_refuses_a_wait_longer_than_the_time_left(debug_log: pytest.LogCaptureFixture) -> None:
    """DEADLINE: a 5 s backoff cannot fit in a 2 s total_timeout, so the 503 is returned at once."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    exchange = MemoryExchange([503, 200])
    listeners, seen = collect(log=True)
    response = await drive(ExponentialRetry(start_timeout=5, total_timeout=2), exchange, listeners=listeners)
    assert response.status == 503
    assert loop.time() == started
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.DEADLINE, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "deadline" in record.getMessage()


@pytest.mark.looptime
async def test_deadline_shrinks_each_tries_time_left() -> None:
    """DEADLINE: each try gets the time left; a try as long as the last no longer fits, so try 2's 503 ends it."""
    exchange = MemoryExchange([Delay(0.4, 503), Delay(0.4, 503), 200])
    listeners, seen = collect()
    response = await drive(
        ExponentialRetry(attempts=5, total_timeout=1, start_timeout=0), exchange, listeners=listeners
    )
    assert response is exchange.responses[1]
    assert [s.time_left for s in exchange.sends] == [pytest.approx(1.0), pytest.approx(0.6)]
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.DEADLINE, 2, 503)
    assert exchange.responses[0].released


@pytest.mark.looptime
async def test_slow_try_cut_by_total_timeout_raises_retry_timeout_error(
    debug_log: pytest.LogCaptureFixture,
) -> None:
    """DEADLINE: a try cut by total_timeout raises RetryTimeoutError naming total_timeout and 1 try, at the limit."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    exchange = MemoryExchange([Delay(5), Delay(5)])
    listeners, seen = collect(log=True)
    with pytest.raises(RetryTimeoutError) as raised:
        await drive(ExponentialRetry(total_timeout=1, start_timeout=0), exchange, listeners=listeners)
    error = raised.value
    assert (error.limit, error.seconds, error.tries) == ("total_timeout", 1.0, 1)
    assert "total_timeout of 1 s ran out after 1 try" in str(error)
    assert isinstance(error.__cause__, TimeoutError)
    assert loop.time() - started == pytest.approx(1.0)
    assert len(exchange.sends) == 1
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.error) == (StopReason.DEADLINE, 1, error)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "deadline" in record.getMessage()


@pytest.mark.looptime
async def test_tries_cut_by_attempt_timeout_raise_retry_timeout_error() -> None:
    """LAST_TRY: two tries each cut by attempt_timeout raise RetryTimeoutError naming attempt_timeout and 2 tries."""
    exchange = MemoryExchange([Delay(5), Delay(5)])
    listeners, seen = collect()
    with pytest.raises(RetryTimeoutError) as raised:
        await drive(ExponentialRetry(attempts=2, attempt_timeout=0.5, start_timeout=0), exchange, listeners=listeners)
    error = raised.value
    assert (error.limit, error.seconds, error.tries) == ("attempt_timeout", 0.5, 2)
    assert [s.time_left for s in exchange.sends] == [0.5, 0.5]
    assert exchange.sends[1].at - exchange.sends[0].at == pytest.approx(0.5)
    assert seen.one(GaveUp).reason is StopReason.LAST_TRY


@pytest.mark.looptime
async def test_transport_timeout_before_the_limit_is_not_the_librarys() -> None:
    """A transport's own timeout, well before total_timeout, is raised as itself, not as RetryTimeoutError."""
    error = TimedOut("transport read timeout")
    exchange = MemoryExchange([Delay(0.1, error)])
    with pytest.raises(TimeoutError) as raised:
        await drive(ExponentialRetry(attempts=1, total_timeout=10), exchange)
    assert raised.value is error
    assert not isinstance(raised.value, RetryTimeoutError)


@pytest.mark.looptime
async def test_drain_of_a_discarded_body_is_bounded_by_the_deadline() -> None:
    """DEADLINE: a 10 s drain is cut at the 3 s deadline; the response is released and the call ends there."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    slow = MemoryResponse(503, body_delay=10)
    exchange = MemoryExchange([slow, 200])
    listeners, seen = collect()
    with pytest.raises(RetryTimeoutError) as raised:
        await drive(ExponentialRetry(total_timeout=3, start_timeout=0), exchange, listeners=listeners)
    assert raised.value.limit == "total_timeout"
    assert loop.time() - started == pytest.approx(3.0)
    assert slow.released
    assert not slow.drained
    assert slow.drain_time_left == pytest.approx(3.0)
    assert len(exchange.sends) == 1
    assert seen.one(GaveUp).reason is StopReason.DEADLINE


async def test_breaker_opening_mid_call_stops_the_retries(debug_log: pytest.LogCaptureFixture) -> None:
    """BREAKER_OPEN: try 1's 503 opens the breaker; the call ends with that 503 and both WARNINGs."""
    breaker = CircuitBreaker(minimum_throughput=1, failure_ratio=0.5, clock=FakeClock())
    exchange = MemoryExchange([503, 200])
    listeners, seen = collect(log=True)
    response = await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners, breaker=breaker)
    assert response.status == 503
    assert len(exchange.sends) == 1
    change = seen.one(BreakerStateChange)
    assert (change.key, change.old, change.new) == (KEY, "closed", "open")
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.BREAKER_OPEN, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "breaker open" in record.getMessage()
    opened = [r for r in log_records(debug_log) if r.getMessage().startswith("Circuit breaker")]
    assert [r.levelno for r in opened] == [logging.WARNING]


async def test_breaker_opening_on_an_error_mid_call_raises_it() -> None:
    """BREAKER_OPEN: a Dropped try 1 opens the breaker; that error is raised with the reason."""
    breaker = CircuitBreaker(minimum_throughput=1, failure_ratio=0.5, clock=FakeClock())
    error = Dropped()
    exchange = MemoryExchange([error, 200])
    listeners, seen = collect()
    with pytest.raises(Dropped):
        await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners, breaker=breaker)
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.error) == (StopReason.BREAKER_OPEN, 1, error)


async def test_open_breaker_refuses_try_one(debug_log: pytest.LogCaptureFixture) -> None:
    """BREAKER_OPEN before the call: CircuitOpenError, nothing sent, GaveUp with 0 tries."""
    clock = FakeClock()
    breaker = CircuitBreaker(minimum_throughput=1, failure_ratio=0.5, break_duration=5, clock=clock)
    breaker.record(KEY, breaker.acquire(KEY), failed=True)  # type: ignore[arg-type]
    clock.advance(2)
    exchange = MemoryExchange([200])
    listeners, seen = collect(log=True)
    with pytest.raises(CircuitOpenError) as raised:
        await drive(ExponentialRetry(), exchange, listeners=listeners, breaker=breaker)
    assert raised.value.retry_in == pytest.approx(3.0)
    assert exchange.sends == []
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.error) == (StopReason.BREAKER_OPEN, 0, raised.value)
    assert gave_up_line(debug_log).levelno == logging.WARNING


def test_retry_budget_accepts_zero_ratio_and_reserve() -> None:
    """RetryBudget(ratio=0, min_per_second=0) is valid: a budget that refuses every retry."""
    budget = RetryBudget(ratio=0, min_per_second=0)
    budget.record_call(KEY)
    assert budget.try_retry(KEY) is False


async def test_budget_spent_ends_the_call(debug_log: pytest.LogCaptureFixture) -> None:
    """BUDGET_SPENT: a budget with nothing to spend refuses try 2: BudgetRefused, then GaveUp and a WARNING."""
    exchange = MemoryExchange([503, 200])
    listeners, seen = collect(log=True)
    budget = RetryBudget(ratio=0, min_per_second=0)
    response = await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners, budget=budget)
    assert response.status == 503
    assert len(exchange.sends) == 1
    refused = seen.one(BudgetRefused)
    assert (refused.attempt, refused.method, refused.url, refused.key) == (2, "GET", URL, KEY)
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.BUDGET_SPENT, 1, 503)
    assert seen.kinds().index("BudgetRefused") < seen.kinds().index("GaveUp")
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "budget spent" in record.getMessage()


def _one_shot(attempt: int) -> str | None:
    return "the stream was consumed by try 1" if attempt > 1 else None


async def test_body_not_replayable_after_a_status(debug_log: pytest.LogCaptureFixture) -> None:
    """BODY_NOT_REPLAYABLE: a 503 whose retry needs a consumed body raises BodyNotReplayableError; 503 released."""
    exchange = MemoryExchange([503, 200], method="PUT", resend_refusal=_one_shot)
    listeners, seen = collect(log=True)
    with pytest.raises(BodyNotReplayableError) as raised:
        await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners)
    assert str(raised.value) == "the stream was consumed by try 1"
    assert raised.value.last_status == 503
    assert exchange.unreleased() == []
    assert len(exchange.sends) == 1
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status) == (StopReason.BODY_NOT_REPLAYABLE, 1, 503)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.WARNING
    assert "body not replayable" in record.getMessage()


async def test_body_not_replayable_after_an_error() -> None:
    """BODY_NOT_REPLAYABLE: after a Dropped try the error is the cause of BodyNotReplayableError."""
    error = Dropped()
    exchange = MemoryExchange([error, 200], method="PUT", resend_refusal=_one_shot)
    listeners, seen = collect()
    with pytest.raises(BodyNotReplayableError) as raised:
        await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners)
    assert raised.value.__cause__ is error
    assert raised.value.last_status is None
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.error) == (StopReason.BODY_NOT_REPLAYABLE, error)


@pytest.mark.looptime
async def test_cancelled_during_the_backoff_releases_the_failed_response(
    debug_log: pytest.LogCaptureFixture,
) -> None:
    """CANCELLED: cancelling the call in its 10 s backoff raises CancelledError; try 1's 503 was released."""
    exchange = MemoryExchange([503, 200])
    listeners, seen = collect(log=True)
    task = asyncio.ensure_future(drive(ExponentialRetry(start_timeout=10), exchange, listeners=listeners))
    await asyncio.sleep(5)
    assert len(exchange.sends) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert exchange.unreleased() == []
    assert len(exchange.sends) == 1
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries, gave_up.status, gave_up.error) == (StopReason.CANCELLED, 1, None, None)
    record = gave_up_line(debug_log)
    assert record.levelno == logging.DEBUG
    assert "cancelled" in record.getMessage()


@pytest.mark.looptime
async def test_cancelled_during_try_one_gives_the_breaker_permit_back() -> None:
    """CANCELLED on the fast path: GaveUp with 1 try, and the breaker gets the permit back, not an outcome."""
    breaker = SpyBreaker(CircuitBreaker(clock=FakeClock()))
    exchange = MemoryExchange([Delay(10)])
    listeners, seen = collect()
    task = asyncio.ensure_future(drive(ExponentialRetry(), exchange, listeners=listeners, breaker=breaker))
    await asyncio.sleep(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [entry[0] for entry in breaker.log] == ["acquire", "release"]
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries) == (StopReason.CANCELLED, 1)


@pytest.mark.looptime
async def test_cancelled_during_a_later_try() -> None:
    """CANCELLED in try 2: GaveUp counts 2 tries, and try 1's response was released before try 2 started."""
    exchange = MemoryExchange([503, Delay(10)])
    listeners, seen = collect()
    task = asyncio.ensure_future(drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners))
    await asyncio.sleep(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert exchange.open_at_send[1] == []
    assert exchange.unreleased() == []
    gave_up = seen.one(GaveUp)
    assert (gave_up.reason, gave_up.tries) == (StopReason.CANCELLED, 2)


@pytest.mark.looptime
async def test_cancelled_while_draining_releases_the_response() -> None:
    """Cancelling the call while it drains a discarded body still releases that response."""
    slow = MemoryResponse(503, body_delay=10)
    exchange = MemoryExchange([slow, 200])
    task = asyncio.ensure_future(drive(ExponentialRetry(start_timeout=0), exchange))
    await asyncio.sleep(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slow.released
    assert not slow.drained
    assert len(exchange.sends) == 1


async def test_cancelled_in_an_async_callback_releases_the_response() -> None:
    """A cancellation inside an async evaluate_response_callback releases the response being judged."""
    judging = asyncio.Event()

    async def never_decides(_response: Any) -> bool:
        judging.set()
        await asyncio.Event().wait()
        return True

    exchange = MemoryExchange([200])
    options = ExponentialRetry(evaluate_response_callback=never_decides)
    task = asyncio.ensure_future(drive(options, exchange))
    await asyncio.wait_for(judging.wait(), 5)  # bounded: a regression fails here instead of hanging
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert exchange.unreleased() == []


# -- releasing ----------------------------------------------------------------------------------------


async def test_every_discarded_response_is_drained_before_the_next_try() -> None:
    """Each failed response is drained and released before the next try starts; the returned one is left open."""
    exchange = MemoryExchange([503, 500, 502, 200])
    response = await drive(ExponentialRetry(attempts=4, start_timeout=0), exchange)
    assert response.status == 200
    assert exchange.open_at_send == [[], [], [], []]
    assert [(r.status, r.drained, r.released, r.releases) for r in exchange.responses] == [
        (503, True, True, 1),
        (500, True, True, 1),
        (502, True, True, 1),
        (200, False, False, 0),
    ]


# -- the fast path ------------------------------------------------------------------------------------


class _Forbidden:
    """Stands in for a class the fast path must not use: building one fails the test."""

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        msg = "the fast path built this"
        raise AssertionError(msg)


async def test_fast_path_success_builds_no_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 200 on try 1 returns without a Call; the budget counts the call; a breaker permit is taken and recorded."""
    monkeypatch.setattr(run_module, "Call", _Forbidden)
    budget = SpyBudget()
    breaker = SpyBreaker(CircuitBreaker(clock=FakeClock()))
    exchange = MemoryExchange([200])
    response = await drive(ExponentialRetry(), exchange, budget=budget, breaker=breaker)
    assert response.status == 200
    assert exchange.response is response
    assert budget.calls == [KEY]
    assert budget.retries == []
    assert [entry[:2] for entry in breaker.calls("acquire")] == [("acquire", KEY)]
    assert breaker.calls("record") == [("record", KEY, False)]


@pytest.mark.parametrize("logging_at", [None, logging.INFO], ids=["no-listener", "logger-at-info"])
async def test_fast_path_with_nobody_watching_builds_no_event(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, logging_at: int | None
) -> None:
    """With no listener (or only a logger above DEBUG) the fast path builds no TryStarted, TryFinished or Call."""
    for name in ("Call", "TryStarted", "TryFinished"):
        monkeypatch.setattr(run_module, name, _Forbidden)
    listeners = Listeners()
    if logging_at is not None:
        caplog.set_level(logging_at, logger=LOGGER_NAME)
        listeners = Listeners((), LoggingListener(logging.getLogger(LOGGER_NAME)))
    exchange = MemoryExchange([200])
    response = await drive(ExponentialRetry(), exchange, listeners=listeners)
    assert response.status == 200
    assert log_records(caplog) == []


async def test_fast_path_with_a_listener_reports_try_one() -> None:
    """With a listener, the fast path emits TryStarted and a final TryFinished for try 1, and nothing else."""
    exchange = MemoryExchange([200])
    listeners, seen = collect()
    await drive(ExponentialRetry(attempts=4), exchange, listeners=listeners)
    assert seen.kinds() == ["TryStarted", "TryFinished"]
    started = seen.one(TryStarted)
    assert tuple(started) == (1, 4, "GET", URL, KEY)
    finished = seen.one(TryFinished)
    assert (finished.attempt, finished.attempts, finished.status, finished.error, finished.final) == (
        1,
        4,
        200,
        None,
        True,
    )


async def test_fast_path_logs_the_attempt_line_at_debug(debug_log: pytest.LogCaptureFixture) -> None:
    """A logger at DEBUG gets the 2.9.1 line "Attempt 1 out of 3" from the fast path."""
    listeners = Listeners((), LoggingListener(logging.getLogger(LOGGER_NAME)))
    await drive(ExponentialRetry(), MemoryExchange([200]), listeners=listeners)
    assert [(r.levelno, r.getMessage()) for r in log_records(debug_log)] == [(logging.DEBUG, "Attempt 1 out of 3")]


@pytest.mark.looptime
async def test_gave_up_elapsed_counts_try_one_when_only_logging_at_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The "Gave up" line's elapsed time includes try 1 even when nobody watches per-try events."""
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    listeners = Listeners((), LoggingListener(logging.getLogger(LOGGER_NAME)))
    exchange = MemoryExchange([Delay(5, 503), 503])
    await drive(ExponentialRetry(attempts=2, start_timeout=0), exchange, listeners=listeners)
    assert gave_up_line(caplog).retry_elapsed == pytest.approx(5.0)  # type: ignore[attr-defined]


# -- options compiled once ----------------------------------------------------------------------------


async def test_plan_is_compiled_once_and_again_after_a_change() -> None:
    """plan_of returns the same Plan until a setting changes; the new plan governs the next call."""
    options = ExponentialRetry(attempts=3, start_timeout=0)
    plan = plan_of(options)
    assert plan_of(options) is plan
    await drive(options, MemoryExchange([200]))
    assert plan_of(options) is plan
    options.attempts = 5
    replanned = plan_of(options)
    assert replanned is not plan
    assert replanned.attempts == 5
    exchange = MemoryExchange([503] * 5)
    await drive(options, exchange)
    assert [s.attempt for s in exchange.sends] == [1, 2, 3, 4, 5]


class _TwoTries(ExponentialRetry):
    """Overrides the attempts property: always 2 tries."""

    @property
    def attempts(self) -> int:
        return 2

    @attempts.setter
    def attempts(self, value: int) -> None:
        ExponentialRetry.attempts.fset(self, value)  # type: ignore[attr-defined]


@pytest.mark.parametrize("with_breaker", [False, True], ids=["no-breaker", "breaker"])
async def test_subclass_overriding_attempts_is_honoured(with_breaker: bool) -> None:
    """A subclass whose attempts property says 2 gets 2 tries, on the fast path and the slow path alike."""
    options = _TwoTries(attempts=5, start_timeout=0)

    def breaker() -> CircuitBreaker | None:
        return CircuitBreaker(clock=FakeClock()) if with_breaker else None

    listeners, seen = collect()
    await drive(options, MemoryExchange([200]), listeners=listeners, breaker=breaker())
    assert seen.one(TryStarted).attempts == 2

    exchange = MemoryExchange([503, 503, 503])
    response = await drive(options, exchange, breaker=breaker())
    assert [s.attempt for s in exchange.sends] == [1, 2]
    assert response is exchange.responses[1]

    errors = MemoryExchange([Dropped(), Dropped(), 200])
    with pytest.raises(Dropped):
        await drive(options, errors, breaker=breaker())
    assert len(errors.sends) == 2


# -- Retry-After --------------------------------------------------------------------------------------


@pytest.mark.looptime
@pytest.mark.parametrize("status", [429, 413, 503])
async def test_retry_after_retries_and_waits_as_the_server_asks(status: int) -> None:
    """A 429/413/503 with Retry-After: 2 is retried (statuses empty), try 2 starting 2 s later, not 0.5 s."""
    exchange = MemoryExchange([MemoryResponse(status, {"retry-after": "2"}), 200])
    listeners, seen = collect()
    response = await drive(ExponentialRetry(start_timeout=0.5), exchange, listeners=listeners)
    assert response.status == 200
    assert exchange.sends[1].at - exchange.sends[0].at == pytest.approx(2.0)
    scheduled = seen.one(RetryScheduled)
    assert (scheduled.delay, scheduled.retry_after, scheduled.cause) == (2.0, True, f"status {status}")


@pytest.mark.looptime
async def test_retry_after_shorter_than_the_schedule_waits_the_schedule() -> None:
    """The wait is the longer of the two: Retry-After 1 against a 3 s backoff waits 3 s."""
    exchange = MemoryExchange([MemoryResponse(503, {"Retry-After": "1"}), 200])
    listeners, seen = collect()
    await drive(ExponentialRetry(start_timeout=3), exchange, listeners=listeners)
    assert exchange.sends[1].at - exchange.sends[0].at == pytest.approx(3.0)
    scheduled = seen.one(RetryScheduled)
    assert (scheduled.delay, scheduled.retry_after) == (3.0, False)


@pytest.mark.looptime
async def test_retry_after_of_a_raised_http_error_is_honoured() -> None:
    """An HTTP error raised instead of a response (a listed exception) waits its Retry-After too."""
    exchange = MemoryExchange([HttpError(503, "4"), 200])
    listeners, seen = collect()
    response = await drive(ExponentialRetry(exceptions={HttpError}, start_timeout=0), exchange, listeners=listeners)
    assert response.status == 200
    assert exchange.sends[1].at - exchange.sends[0].at == pytest.approx(4.0)
    scheduled = seen.one(RetryScheduled)
    assert (scheduled.cause, scheduled.delay, scheduled.retry_after) == ("HttpError (status 503)", 4.0, True)


async def test_429_without_retry_after_is_returned_at_once() -> None:
    """A 429 with no Retry-After (and not in statuses) is the answer: one try, no GaveUp, left open."""
    exchange = MemoryExchange([429, 200])
    listeners, seen = collect()
    response = await drive(ExponentialRetry(start_timeout=0), exchange, listeners=listeners)
    assert response.status == 429
    assert not response.released
    assert len(exchange.sends) == 1
    assert seen.of(GaveUp) == []
    assert seen.of(TryFinished)[-1].final is True


@pytest.mark.parametrize("value", ["soon", "-5", "", "1e3"])
async def test_invalid_retry_after_is_not_retried(value: str) -> None:
    """A 429 whose Retry-After is not a valid wait is returned as it is."""
    exchange = MemoryExchange([MemoryResponse(429, {"Retry-After": value}), 200])
    response = await drive(ExponentialRetry(start_timeout=0), exchange)
    assert response.status == 429
    assert len(exchange.sends) == 1


@pytest.mark.looptime
@pytest.mark.parametrize("hedging", [None, Hedging(delay=0.1)], ids=["sequential", "hedged"])
async def test_a_passed_inbound_deadline_sends_nothing(hedging: Hedging | None) -> None:
    """A call made after the request being served ran out of time sends no try and gives up for the deadline."""
    listeners, recorder = collect()
    exchange = MemoryExchange([200])
    token = set_inbound_deadline(asyncio.get_running_loop().time() - 0.1)
    try:
        with pytest.raises(RetryTimeoutError, match="inbound deadline") as info:
            await drive(ExponentialRetry(hedging=hedging), exchange, listeners=listeners)
    finally:
        inbound_deadline.reset(token)
    assert exchange.sends == []
    assert info.value.tries == 0
    [gave_up] = [e for e in recorder.events if isinstance(e, GaveUp)]
    assert (gave_up.reason, gave_up.tries) == (StopReason.DEADLINE, 0)
