"""The sequential strategy: one try at a time, a planned wait between them.

Takes over from the fast path with try 1's outcome (or sends try 1 itself),
judges every outcome through :class:`~aiohttp_retry.engine.plan.Call`, and
ends with the last real outcome and a stop reason. Every response it does not
return is discarded (a small body drained within the deadline, then released)
before the next try starts, cancellation included.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from aiohttp_retry.engine.limits import enter_try, leave_try
from aiohttp_retry.engine.plan import Call
from aiohttp_retry.errors import BodyNotReplayableError
from aiohttp_retry.observe.redact import describe_error
from aiohttp_retry.policy.breaker import Permit
from aiohttp_retry.policy.deadline import fits_before
from aiohttp_retry.policy.stop import StopReason

__all__ = ["run_sequential"]


def _not_resendable(call: Call, attempt: int) -> str:
    return call.exchange.resend_refusal(attempt) or "the request body cannot be sent again"


async def run_sequential(  # noqa: C901, PLR0912, PLR0915 - the one sequential loop; its branches are the contract
    call: Call,
    first: Any,
    permit: Permit | None,
    first_started: float,
    first_time_left: float | None,
) -> Any:
    """Run ``call`` to its end; ``first`` is try 1's outcome (a response or an ``Exception``), or ``None`` to send it.

    ``permit`` is the breaker's permit for try 1 when its outcome was an error
    (a response's outcome the fast path has already reported).
    """
    codec = call.codec
    exchange = call.exchange
    attempt = 1
    outcome = first
    try_started = first_started or call.started
    time_left = first_time_left
    try:
        while True:
            if outcome is None:
                slots = await enter_try(call, attempt)
                try:
                    permit = call.admit(attempt)
                except BaseException:
                    if call.limits is not None:  # the breaker refused: nothing was sent
                        call.limits.release(slots)
                    raise
                try_started = call.now()
                time_left = call.time_left(try_started)
                try:
                    outcome = await exchange.send(attempt, time_left)
                except Exception as raised:  # noqa: BLE001 - judged below like any outcome
                    outcome = raised
                except BaseException as interrupted:
                    leave_try(call, slots, interrupted)
                    call.record_error(permit, interrupted)
                    call.finished(attempt, None, interrupted, try_started, final=False)
                    raise
                else:
                    call.record(permit, failed=call.plan.failed(codec.status(outcome)))
                    permit = None
                leave_try(call, slots, outcome)
            else:
                call.tries = attempt
            try_took = call.now() - try_started
            if isinstance(outcome, Exception):
                error: BaseException = outcome
                call.record_error(permit, error)
                permit = None
                if call.error_retryable(attempt, outcome):
                    facts = codec.error_response(outcome)
                    status, header = facts if facts is not None else (None, None)
                    verdict = call.plan_retry(attempt, None, status, header, try_took)
                else:
                    verdict = StopReason.NOT_RETRYABLE
                if isinstance(verdict, StopReason):
                    call.finished(attempt, None, error, try_started, final=False)
                    if verdict is StopReason.BODY_NOT_REPLAYABLE:
                        call.gave_up(verdict, None, error)
                        raise BodyNotReplayableError(_not_resendable(call, attempt + 1)) from error
                    own = call.limit_error(error, try_started, time_left)
                    call.gave_up(verdict, None, own)
                    if own is not error:
                        raise own from error
                    raise error
                call.finished(attempt, None, error, try_started, final=False)
                delay, from_server = verdict
                call.retrying(attempt, describe_error(error), delay, from_server=from_server)
            else:
                response = outcome
                status = codec.status(response)
                try:
                    failed = await call.response_failed(attempt, response, last=attempt >= call.attempts)
                except BaseException:
                    codec.release(response)
                    raise
                if failed is False:
                    try:
                        delivered = await call.deliver(response)
                    except Exception as rejected:  # noqa: BLE001 - raise_for_status: judged as this try's error
                        outcome, permit = rejected, None
                        continue
                    call.finished(attempt, status, None, try_started, final=True)
                    return delivered
                if failed is True:
                    verdict = call.plan_retry(
                        attempt, response, status, codec.header(response, "Retry-After"), try_took
                    )
                else:
                    verdict = failed
                if isinstance(verdict, StopReason):
                    call.finished(attempt, status, None, try_started, final=False)
                    call.gave_up(verdict, status, None)
                    if verdict is StopReason.BODY_NOT_REPLAYABLE:
                        codec.release(response)
                        raise BodyNotReplayableError(_not_resendable(call, attempt + 1), status)
                    return await call.deliver(response)
                call.finished(attempt, status, None, try_started, final=False)
                delay, from_server = verdict
                call.retrying(attempt, f"status {status}", delay, from_server=from_server)
                await codec.discard(response, call.drain_time(reserve=delay + try_took))
                if call.expires != math.inf and not fits_before(delay, call.now(), call.expires, try_took):
                    # Draining its body took the time left: the response is gone, and so is the deadline.
                    call.gave_up(StopReason.DEADLINE, status, None)
                    raise call.deadline_error()
            await asyncio.sleep(delay)
            if call.expires != math.inf and call.now() >= call.expires:
                # The loop woke too late (it was busy): no try starts after the deadline.
                call.gave_up(StopReason.DEADLINE, None, outcome if isinstance(outcome, Exception) else None)
                if isinstance(outcome, Exception):
                    raise outcome
                raise call.deadline_error()
            outcome = None
            attempt += 1
    except asyncio.CancelledError:
        call.gave_up(StopReason.CANCELLED, None, None)
        raise
