"""The engine's one entry: try 1 on the fast path, anything else to a strategy.

Most calls end with try 1. :func:`run` sends it before any per-call state is
built: a breaker permit, a budget count, the time it may take, events only if
someone listens, and a status check against the compiled plan. A response that
ends the call is returned from here; any other outcome goes to the sequential
loop, which judges it like every later try. Hedged calls go to the hedged
strategy from the start.
"""

from __future__ import annotations

import asyncio
import math
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, TypeVar

from aiohttp_retry.engine.hedged import run_hedged
from aiohttp_retry.engine.inbound import _Used, inbound_deadline
from aiohttp_retry.engine.limits import SlotWaitTimeout, leave_try, stop_reason
from aiohttp_retry.engine.plan import Call, Plan
from aiohttp_retry.engine.sequential import run_sequential
from aiohttp_retry.errors import LimitError
from aiohttp_retry.events import TryFinished, TryStarted, listener_raised, listener_result
from aiohttp_retry.policy.breaker import Permit
from aiohttp_retry.policy.stop import StopReason

if TYPE_CHECKING:
    from aiohttp_retry.engine.limits import Limits
    from aiohttp_retry.engine.protocols import Exchange
    from aiohttp_retry.events import Listeners
    from aiohttp_retry.policy.protocols import CircuitBreakerLike, RetryBudgetLike

__all__ = ["run"]

_new = tuple.__new__
_INF = math.inf


def _cancelled(call: Call, interrupted: BaseException) -> None:
    """Report a call cancelled during try 1: the try ended with the cancellation, and the call gave up."""
    call.tries = 1
    call.finished(1, None, interrupted, call.started, final=False)
    call.gave_up(StopReason.CANCELLED, None, None)


_STOCK_TIME = asyncio.BaseEventLoop.time

R = TypeVar("R")


async def run(  # noqa: C901, PLR0912, PLR0915 - the fast path, written out: its branches run on every call
    plan: Plan,
    exchange: Exchange[R],
    key: str,
    budget: RetryBudgetLike | None,
    breaker: CircuitBreakerLike | None,
    listeners: Listeners,
    started: float | None = None,
    limits: Limits | None = None,
) -> R:
    """Send the call described by ``exchange`` as ``plan`` says; return the response it ends with.

    ``key`` is the origin that keys ``budget``, ``breaker`` and ``limits`` (each may be
    ``None``). ``listeners`` receive the call's events. ``started``: the loop
    clock reading at which the call began, when the adapter did work before
    try 1 (reading a body ahead); its deadline counts from there. Raises what the last
    try raised, or :class:`~aiohttp_retry.errors.CircuitOpenError`, a
    :class:`~aiohttp_retry.errors.LimitError`,
    :class:`~aiohttp_retry.errors.BodyNotReplayableError` or
    :class:`~aiohttp_retry.errors.RetryTimeoutError`.
    """
    if plan.hedging is not None and exchange.hedgeable:
        call = Call(plan, exchange, key, budget, breaker, listeners, started, limits)
        if call.expires <= call.now():
            call.gave_up(StopReason.DEADLINE, None, None)
            raise call.deadline_error()
        if call.idempotent(1):
            return await run_hedged(call, plan.hedging)  # type: ignore[no-any-return]
        return await run_sequential(call, None, None, 0.0, None)  # type: ignore[no-any-return]
    time_left = None
    expires = _INF
    loop = asyncio.get_running_loop()
    # The loop's own clock; for asyncio's stock loops that is time.monotonic, called without the method's frame.
    clock = _monotonic if type(loop).time is _STOCK_TIME else loop.time
    if plan.timed or (_Used.flag and inbound_deadline.get() is not None):
        now = clock()
        if started is None:
            # A fresh call has its own limits whole: exactly the same number for every call,
            # which lets an adapter reuse what it builds for it (RetryClient's ClientTimeout).
            started = now
            time_left = plan.first_limit
        else:
            time_left = plan.first_limit if plan.total is None else started + plan.total - now
            if plan.attempt_limit is not None and plan.attempt_limit < time_left:
                time_left = plan.attempt_limit
        inherited = inbound_deadline.get()
        if inherited is not None and inherited - now < time_left:
            time_left = inherited - now
        if time_left <= 0:
            # The deadline (inherited, or used up reading a body ahead) has passed: nothing is sent.
            call = Call(plan, exchange, key, budget, breaker, listeners, started, limits)
            call.gave_up(StopReason.DEADLINE, None, None)
            raise call.deadline_error()
        if plan.total is not None:
            expires = started + plan.total
        if inherited is not None and inherited < expires:
            expires = inherited
    if limits is not None:  # (``slots`` is bound only then: every later use checks ``limits`` first)
        admitted_at = clock()
        try:
            admitted = limits.admit(key, exchange.url, admitted_at, expires)
            if not isinstance(admitted, tuple):
                admitted = await admitted
                if time_left is not None:  # the wait took some of the time left
                    time_left = expires - clock()
                    if plan.attempt_limit is not None and plan.attempt_limit < time_left:
                        time_left = plan.attempt_limit
        except LimitError as refused:
            Call(plan, exchange, key, budget, breaker, listeners, started, limits).gave_up(
                stop_reason(refused), None, refused
            )
            raise
        except SlotWaitTimeout:
            call = Call(plan, exchange, key, budget, breaker, listeners, started, limits)
            call.gave_up(StopReason.DEADLINE, None, None)
            raise call.deadline_error() from None
        except asyncio.CancelledError:
            Call(plan, exchange, key, budget, breaker, listeners, started, limits).gave_up(
                StopReason.CANCELLED, None, None
            )
            raise
        slots = admitted
    permit = None
    if breaker is not None:
        granted = breaker.acquire(key)
        if not isinstance(granted, Permit):
            if limits is not None:
                limits.release(slots)
            Call(plan, exchange, key, budget, breaker, listeners, started, limits).refused(granted)
        permit = granted
        if permit.change is not None:
            listeners.emit(permit.change)
    if budget is not None:
        budget.record_call(key)
    # Per-try events go to the user's listeners, and to the logging listener only while DEBUG is on.
    if listeners.debug_on():
        starts, watching = listeners.all_started, listeners.all_finished
    else:
        starts, watching = listeners.started, listeners.finished
    if started is None:
        started = clock()  # read once for every call: a call that gives up reports its whole time
    if starts:
        # tuple.__new__ directly: a named tuple's own __new__ is one more Python frame per event.
        event = _new(TryStarted, (1, plan.attempts, exchange.method, exchange.url, key))
        for listener in starts:  # emit_to's loop, written out: this runs on every watched call
            try:
                result = listener(event)
                if result is not None:
                    listener_result(result, listener)
            except Exception:  # noqa: BLE001, PERF203 - a listener never breaks a call
                listener_raised(listener)
    try:
        response = await exchange.send(1, time_left)
    except Exception as error:  # noqa: BLE001 - judged by the loop like any try's error
        call = Call(plan, exchange, key, budget, breaker, listeners, started, limits)
        if limits is not None:
            leave_try(call, slots, error)
        return await run_sequential(call, error, permit, call.started, time_left)  # type: ignore[no-any-return]
    except BaseException as interrupted:
        if limits is not None:
            limits.release(slots)
        if permit is not None:
            breaker.release(key, permit)  # type: ignore[union-attr]
        if isinstance(interrupted, asyncio.CancelledError):
            _cancelled(Call(plan, exchange, key, budget, breaker, listeners, started, limits), interrupted)
        raise
    status = exchange.codec.status(response)
    if limits is not None:
        limits.leave(key, slots, admitted_at, status, None)
    if permit is not None:
        change = breaker.record(key, permit, failed=status >= plan.fail_from or status in plan.statuses)  # type: ignore[union-attr]
        if change is not None:
            listeners.emit(change)
    if status < plan.fail_from and status not in plan.watch and plan.callback is None:
        if exchange.finish is not None:
            try:
                await exchange.finish(response)
            except Exception as error:  # noqa: BLE001 - raise_for_status: judged like any try's error
                call = Call(plan, exchange, key, budget, breaker, listeners, started, limits)
                return await run_sequential(call, error, None, call.started, time_left)  # type: ignore[no-any-return]
            except asyncio.CancelledError as interrupted:
                _cancelled(Call(plan, exchange, key, budget, breaker, listeners, started, limits), interrupted)
                raise
        if watching:
            elapsed = clock() - started
            args = (1, plan.attempts, exchange.method, exchange.url, key, status, None, None, elapsed, elapsed, True)
            finished = _new(TryFinished, args)
            for listener in watching:
                try:
                    result = listener(finished)
                    if result is not None:
                        listener_result(result, listener)
                except Exception:  # noqa: BLE001, PERF203 - a listener never breaks a call
                    listener_raised(listener)
        exchange.response = response
        return response
    call = Call(plan, exchange, key, budget, breaker, listeners, started, limits)
    return await run_sequential(call, response, None, call.started, time_left)  # type: ignore[no-any-return]
