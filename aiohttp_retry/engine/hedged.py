"""The hedged strategy: overlapping tries of an idempotent request; the first acceptable answer wins.

Try 1 starts at once. While no answer has come, a further try starts every
``Hedging.delay_for(origin)`` seconds, up to ``attempts`` tries in all, each
paid for from the retry budget and started only while the breaker admits it
and the call's deadline has time left. A try that fails fast (a retryable
status or error) starts the next one at once, unless its ``Retry-After`` asks
for a pause (the next try then waits for the hedge delay, or for the pause when
nothing else is under way) or for more than the accepted maximum (no further
try starts). The first response that is not a
failure is returned; every other try is cancelled and its response released.
A failed response is drained (beside the running tries, cut when the call
ends) and released as soon as another try is under way; when no try is left
to start and none is running, the call ends with the last real outcome and
the reason no further try started.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

from aiohttp_retry.engine.limits import enter_try, leave_try
from aiohttp_retry.engine.plan import Call
from aiohttp_retry.events import HedgeFired, HedgeWon
from aiohttp_retry.policy.deadline import fits_before
from aiohttp_retry.policy.stop import StopReason

if TYPE_CHECKING:
    from aiohttp_retry.policy.breaker import Permit
    from aiohttp_retry.policy.hedging import Hedging

__all__ = ["run_hedged"]

_Tries = dict["asyncio.Future[Any]", tuple[int, float, "Permit | None", "float | None", tuple[Any, ...]]]


class _Hedge:
    """The state of one hedged call: tries under way, the last failure kept, and why no more start."""

    def __init__(self, call: Call, hedging: Hedging) -> None:
        self.call = call
        self.hedging = hedging
        self.tasks: _Tries = {}
        self.reported: set[asyncio.Future[Any]] = set()  # tries already finished, in events, as cancelled
        self.kept: Any = None  # the last failed response, while nothing else is under way
        self.kept_status: int | None = None
        self.last_error: tuple[Exception, float, float | None] | None = None
        self.started = 0
        self.stop: StopReason | None = None
        self.resume_at: float | None = None  # when nothing runs: the loop clock reading to try again at
        self.draining: set[asyncio.Future[None]] = set()
        self.first_slots: tuple[Any, ...] = ()  # the concurrency slots try 1 was admitted with

    def start_try(self) -> bool:
        """Start the next try if one may start; otherwise note why none will."""
        call = self.call
        attempt = self.started + 1
        if self.stop is not None:
            return False
        if attempt > call.attempts:
            self.stop = StopReason.LAST_TRY
            return False
        now = call.now()
        time_left = call.time_left(now)
        if attempt > 1:
            self.stop = StopReason.DEADLINE if time_left is not None and time_left <= 0 else call.refusal(attempt)
            if self.stop is not None:
                return False
        slots = self.slots_for(attempt, now)
        if slots is None:
            return False
        try:
            permit = call.admit(attempt)  # try 1 refused: CircuitOpenError ends the call
        except BaseException:
            if call.limits is not None:
                call.limits.release(slots)
            raise
        self.started = attempt
        try:
            task = asyncio.ensure_future(call.exchange.send(attempt, time_left))
        except BaseException as error:  # the try could not even start: its permit goes back
            leave_try(call, slots, asyncio.CancelledError())
            call.record_error(permit, error)
            call.finished(attempt, None, error, now, final=False)
            call.gave_up(StopReason.NOT_RETRYABLE, None, error)
            raise
        self.tasks[task] = (attempt, now, permit, time_left, slots)
        if attempt > 1:
            method, url, _ = call.exchange.describe(attempt)
            call.listeners.emit(HedgeFired(attempt, method, url, call.key, now - call.started))
        return True

    def slots_for(self, attempt: int, now: float) -> tuple[Any, ...] | None:
        """The limits' slots of try ``attempt``; ``None`` (noting why no more start) if they cannot admit it at once.

        Try 1 was admitted before the call started (it may wait its turn); a
        hedge or a retry goes only if the limits admit it without waiting.
        """
        call = self.call
        if attempt == 1 or call.limits is None:
            return self.first_slots
        _, url, _ = call.exchange.describe(attempt)
        admitted = call.limits.admit_now(call.key, url, now)
        if isinstance(admitted, StopReason):
            self.stop = admitted
            return None
        return admitted

    def drop_kept(self) -> None:
        """Drain and release the kept failed response, beside the tries under way (never holding up their answer)."""
        kept, self.kept = self.kept, None
        if kept is not None:
            drain = asyncio.ensure_future(self.call.codec.discard(kept, self.call.drain_time()))
            self.draining.add(drain)
            drain.add_done_callback(self.draining.discard)

    async def stop_draining(self) -> None:
        """Cut the drains still running when the call ends: each releases its response as it stops."""
        for drain in self.draining:
            drain.cancel()
        if self.draining:
            await asyncio.wait(list(self.draining))

    def report_cancelled(self) -> None:
        """Finish, in events, every try still under way as cancelled (once each; its breaker permit goes back)."""
        call = self.call
        for task, (attempt, began, permit, _, slots) in self.tasks.items():
            if not task.done() and task not in self.reported:
                self.reported.add(task)
                cancelled = asyncio.CancelledError()
                leave_try(call, slots, cancelled)
                call.record_error(permit, cancelled)  # gives a breaker probe back
                call.finished(attempt, None, cancelled, began, final=False)

    async def cancel_all(self) -> None:
        """Cancel the tries under way; each releases its response when it ends, even if this wait is cut short."""
        call = self.call
        release = call.codec.release

        def release_result(task: asyncio.Future[Any]) -> None:
            if not task.cancelled() and task.exception() is None:
                release(task.result())

        self.report_cancelled()
        for task, (*_, slots) in self.tasks.items():
            if task.done() and call.limits is not None:  # answered, but not looked at: its slots go back too
                call.limits.release(slots)
            task.add_done_callback(release_result)
            task.cancel()
        pending = list(self.tasks)
        self.tasks.clear()
        if pending:
            await asyncio.wait(pending)  # a cancellation of the caller propagates from here

    async def paused(self) -> bool:
        """With nothing under way, wait out the pause a server asked for and start the next try; whether it did."""
        call = self.call
        if self.resume_at is None or self.stop is not None or self.started >= call.attempts:
            return False
        delay = max(self.resume_at - call.now(), 0.0)
        self.resume_at = None
        if call.expires != math.inf and not fits_before(delay, call.now(), call.expires):
            self.stop = StopReason.DEADLINE
            return False
        await asyncio.sleep(delay)
        if self.start_try():
            self.drop_kept()
            return True
        return False

    def server_pause(self, status: int, response: Any) -> float:
        """The pause the server asks for before the next try (0: none); notes a stop if it vetoes or asks too much."""
        call = self.call
        if call.vetoed(response):
            self.stop = StopReason.SERVER_VETO
            return 0.0
        asked = call.server_wait(status, call.codec.header(response, "Retry-After"))
        if asked is None:
            return 0.0
        if asked > call.plan.retry_after.max_wait:  # type: ignore[union-attr] # asked: it is set
            self.stop = StopReason.RETRY_AFTER_TOO_LONG
        return asked


async def run_hedged(call: Call, hedging: Hedging) -> Any:  # noqa: C901, PLR0912, PLR0915 - the hedged loop
    """Run ``call`` with overlapping tries; see the module docstring."""
    state = _Hedge(call, hedging)
    codec = call.codec
    tasks = state.tasks
    state.first_slots = await enter_try(call, 1)
    try:
        state.start_try()
        while tasks or await state.paused():
            more = state.stop is None and state.started < call.attempts
            timeout = hedging.delay_for(call.key) if more else None
            done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                if state.start_try():
                    state.drop_kept()
                continue
            for task in done:
                attempt, began, permit, time_left, slots = tasks.pop(task)
                pause = 0.0
                try:
                    response = task.result()
                except Exception as error:
                    leave_try(call, slots, error)
                    call.record_error(permit, error)
                    if not call.error_retryable(attempt, error):
                        call.tries = state.started
                        call.finished(attempt, None, error, began, final=False)
                        await state.cancel_all()
                        own = call.limit_error(error, began, time_left)
                        call.gave_up(StopReason.NOT_RETRYABLE, None, own)
                        if own is not error:
                            raise own from error
                        raise
                    call.finished(attempt, None, error, began, final=False)
                    state.last_error = (error, began, time_left)
                    state.drop_kept()
                else:
                    leave_try(call, slots, response)
                    try:
                        status = codec.status(response)
                        hedging.record(call.key, call.now() - began)
                        call.record(permit, failed=call.plan.failed(status))
                        failed = await call.response_failed(attempt, response)
                        if failed is not True:
                            call.tries = state.started
                            state.drop_kept()
                            await state.cancel_all()
                            given_up = failed is StopReason.NOT_RETRYABLE
                            if given_up:
                                call.finished(attempt, status, None, began, final=False)
                                call.gave_up(StopReason.NOT_RETRYABLE, status, None)
                            try:
                                delivered = await call.deliver(response)
                            except Exception as rejected:  # raise_for_status rejected the answer
                                if not given_up:
                                    call.finished(attempt, status, None, began, final=False)
                                call.gave_up(StopReason.NOT_RETRYABLE, status, rejected)
                                raise
                            if not given_up:  # the call's last event is the one that ends it
                                if state.started > 1:
                                    method, url, _ = call.exchange.describe(attempt)
                                    call.listeners.emit(HedgeWon(attempt, state.started, method, url, call.key))
                                call.finished(attempt, status, None, began, final=True)
                            return delivered
                        call.finished(attempt, status, None, began, final=False)
                        pause = state.server_pause(status, response)
                        state.resume_at = call.now() + pause if pause else None
                    except BaseException:
                        codec.release(response)
                        raise
                    state.drop_kept()
                    state.kept, state.kept_status, state.last_error = response, status, None
                if pause == 0.0 and state.start_try():  # a fast failure starts the next try at once
                    state.drop_kept()
            if tasks:
                state.drop_kept()  # another try is under way: the failed response is not needed
        call.tries = state.started
        reason = state.stop or StopReason.LAST_TRY
        if state.kept is not None:
            response, state.kept = state.kept, None
            call.gave_up(reason, state.kept_status, None)
            return await call.deliver(response)
        if state.last_error is None:  # pragma: no cover - every finished try leaves a response or an error
            msg = "hedged call ended without an outcome"
            raise RuntimeError(msg)
        last, began, time_left = state.last_error
        own = call.limit_error(last, began, time_left)
        call.gave_up(reason, None, own)
        if own is not last:
            raise own from last
        raise last
    except asyncio.CancelledError:
        state.report_cancelled()  # the tries end before the call does
        call.gave_up(StopReason.CANCELLED, None, None)
        raise
    finally:
        if state.kept is not None:
            codec.release(state.kept)
        if tasks:
            await state.cancel_all()
        await state.stop_draining()
