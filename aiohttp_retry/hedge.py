"""The hedged strategy: overlapping tries of an idempotent request; the first acceptable answer wins.

Try 1 starts at once. While no answer has come, a further try starts every
``Hedging.delay_for(origin)`` seconds, up to ``attempts`` tries in all, each
paid for from the retry budget. A try that fails fast (a retryable status or
error) starts the next one at once, unless its ``Retry-After`` asks for a
pause (the next try then waits for the hedge delay) or for more than the
accepted maximum (no further try starts). The first response that is not
retryable is returned; every other try is cancelled and its response
released. A failed response is released as soon as another try is under way;
when no try is left to start and none is running, the call ends with the last
outcome, as a sequential call would.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from aiohttp import hdrs

from aiohttp_retry.engine import Call, RaiseForStatus, Send, check_final
from aiohttp_retry.errors import CircuitOpenError

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from aiohttp_retry.policy.breaker import Permit
    from aiohttp_retry.policy.hedging import Hedging

__all__ = ["execute_hedged"]


def _release_result(task: asyncio.Future[ClientResponse]) -> None:
    """Done-callback of a cancelled loser: release the response it may still have produced."""
    if not task.cancelled() and task.exception() is None:
        task.result().release()


_Tries = dict[asyncio.Future["ClientResponse"], tuple[int, float, "Permit | None"]]


async def _cancel_all(tasks: _Tries, call: Call) -> None:
    """Cancel the tries still under way; each releases its response when it ends, even if this wait is cut short."""
    for task, (_, _, permit) in tasks.items():
        task.add_done_callback(_release_result)
        if not task.done():
            call.record_exception(permit, asyncio.CancelledError())  # gives a breaker probe back
        task.cancel()
    pending = list(tasks)
    tasks.clear()
    if pending:
        await asyncio.wait(pending)  # a cancellation of the caller propagates from here


def _server_pause(call: Call, response: ClientResponse) -> float | None:
    """The pause the server asks for before the next try (0: none), or ``None`` to stop trying."""
    retry_after = call.options.retry_after
    if retry_after is None:
        return 0.0
    return retry_after.apply(0.0, response.status, response.headers.get(hdrs.RETRY_AFTER), time.time())


async def execute_hedged(  # noqa: C901, PLR0912, PLR0915 - the hedged loop; its branches are the contract
    call: Call,
    send: Send,
    raise_for_status: RaiseForStatus,
    hedging: Hedging,
) -> ClientResponse:
    """Run the call with overlapping tries; see the module docstring."""
    loop = asyncio.get_running_loop()
    tasks: _Tries = {}
    kept: ClientResponse | None = None  # the last failed response, while nothing else is under way
    last_error: Exception | None = None
    started_tries = 0
    exhausted = False

    def start_try() -> bool:
        nonlocal started_tries, exhausted
        attempt = started_tries + 1
        if exhausted or attempt > call.attempts:
            return False
        if attempt > 1:
            try:
                if call.resend_refusal(attempt) or not call.spend_retry():
                    exhausted = True
                    return False
                permit = call.admit(attempt)
            except CircuitOpenError:
                exhausted = True
                return False
        else:
            permit = call.admit(attempt)
        started_tries = attempt
        tasks[asyncio.ensure_future(call.send(send, attempt, call.now()))] = (attempt, loop.time(), permit)
        return True

    def discard_kept() -> None:
        nonlocal kept
        if kept is not None:
            kept.release()
            kept = None

    try:
        start_try()
        while tasks:
            more = not exhausted and started_tries < call.attempts
            timeout = hedging.delay_for(call.key) if more else None
            done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                if start_try():
                    discard_kept()
                continue
            for task in done:
                attempt, started, permit = tasks.pop(task)
                pause: float | None
                try:
                    response = task.result()
                except Exception as exc:
                    call.record_exception(permit, exc)
                    if not call.retryable_exception(exc, attempt):
                        raise
                    last_error = exc
                    discard_kept()
                    pause = 0.0
                else:
                    try:
                        hedging.record(call.key, loop.time() - started)
                        call.record(permit, failed=call.failed_response(response))
                        if not await call.retryable(response):
                            discard_kept()
                            await _cancel_all(tasks, call)
                            if raise_for_status:
                                await check_final(response, raise_for_status)
                            return response
                        pause = _server_pause(call, response)
                    except BaseException:
                        response.release()
                        raise
                    discard_kept()
                    kept, last_error = response, None
                    if pause is None:
                        exhausted = True  # the server asks for more than we accept
                if pause == 0.0 and start_try():  # a fast failure starts the next try at once
                    discard_kept()
            if tasks:
                discard_kept()  # another try is under way: the failed response is not needed
        if kept is not None:
            response, kept = kept, None
            if raise_for_status:
                await check_final(response, raise_for_status)
            return response
        if last_error is None:  # pragma: no cover - every finished try leaves a response or an error
            msg = "hedged call ended without an outcome"
            raise RuntimeError(msg)
        raise last_error
    finally:
        discard_kept()
        if tasks:
            await _cancel_all(tasks, call)
