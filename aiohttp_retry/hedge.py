"""The hedged strategy: overlapping tries of an idempotent request; the first acceptable answer wins.

Try 1 starts at once. While no answer has come, a further try starts every
``Hedging.delay_for(origin)`` seconds, up to ``attempts`` tries in all, each
paid for from the retry budget. A try that fails fast (a retryable status or
error) starts the next one at once. The first response that is not retryable
is returned; every other try is cancelled and its response released. When no
try is left to start and none is under way, the call ends with the last
outcome, as a sequential call would.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from aiohttp_retry.engine import Call, RaiseForStatus, Send, check_final
from aiohttp_retry.errors import CircuitOpenError

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from aiohttp_retry.policy.hedging import Hedging

__all__ = ["execute_hedged"]


async def _cancel_all(tasks: dict[asyncio.Future[ClientResponse], float], call: Call) -> None:
    """Cancel the tries still under way and release whatever they produced."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        try:
            response = await task
        except BaseException as exc:  # noqa: BLE001, PERF203 - a loser's outcome matters only for its cleanup
            call.record_exception(exc)
        else:
            response.release()
    tasks.clear()


async def execute_hedged(  # noqa: C901, PLR0912, PLR0915 - the hedged loop; its branches are the contract
    call: Call,
    send: Send,
    raise_for_status: RaiseForStatus,
    hedging: Hedging,
) -> ClientResponse:
    """Run the call with overlapping tries; see the module docstring."""
    loop = asyncio.get_running_loop()
    tasks: dict[asyncio.Future[ClientResponse], float] = {}
    last_response: ClientResponse | None = None
    last_error: Exception | None = None
    started_tries = 0

    def start_try() -> bool:
        nonlocal started_tries
        attempt = started_tries + 1
        if attempt > 1:
            if call.resend_refusal(attempt) or not call.spend_retry():
                return False
            try:
                call.admit(attempt)
            except CircuitOpenError:
                return False
        else:
            call.admit(attempt)
        started_tries = attempt
        started = loop.time()
        tasks[asyncio.ensure_future(call.send(send, attempt, call.now()))] = started
        return True

    try:
        start_try()
        exhausted = False
        while tasks:
            more = not exhausted and started_tries < call.attempts
            timeout = hedging.delay_for(call.key) if more else None
            done, _ = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                exhausted = not start_try()
                continue
            for task in done:
                started = tasks.pop(task)
                try:
                    response = task.result()
                except Exception as exc:
                    call.record_exception(exc)
                    if not call.retryable_exception(exc, started_tries):
                        raise
                    last_error = exc
                else:
                    hedging.record(call.key, loop.time() - started)
                    call.record(failed=call.failed_response(response))
                    if not await call.retryable(response):
                        await _cancel_all(tasks, call)
                        if last_response is not None:
                            last_response.release()
                            last_response = None
                        if raise_for_status:
                            await check_final(response, raise_for_status)
                        return response
                    if last_response is not None:
                        last_response.release()
                    last_response, last_error = response, None
                if not exhausted and started_tries < call.attempts:
                    exhausted = not start_try()
        if last_response is not None:
            response, last_response = last_response, None
            if raise_for_status:
                await check_final(response, raise_for_status)
            return response
        assert last_error is not None  # noqa: S101 - a finished try left a response or an error
        raise last_error
    finally:
        await _cancel_all(tasks, call)
        if last_response is not None:
            with contextlib.suppress(Exception):
                last_response.release()
