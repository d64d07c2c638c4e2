"""The attempt loop: the one place where tries are sent, judged, released and spaced.

Adapters hand the loop a ``send(attempt, budget)`` function that performs try
number ``attempt`` (1-based) within ``budget`` seconds (``None``: unbounded)
and returns its response. The loop knows nothing of how that function reaches
the network.

Contract: every response that is not handed back to the caller is released
before the next try starts or the call ends, cancellation included; no wait
starts that would end past the call's deadline.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import ClientResponseError, hdrs

from aiohttp_retry.errors import BodyNotReplayableError
from aiohttp_retry.policy.classify import Verdict, exception_is_retryable, response_verdict
from aiohttp_retry.policy.deadline import attempt_budget, fits_before

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from aiohttp_retry.retry_options import RetryOptionsBase

__all__ = ["Describe", "LoggerLike", "RaiseForStatus", "Send", "Sleep", "execute", "inbound_deadline"]


class LoggerLike(Protocol):
    """Any object with the three logging methods the library calls."""

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102
    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102


#: ``True`` to call ``response.raise_for_status()`` on the final response, or a
#: function (sync or async) called with it that raises to reject it.
RaiseForStatus = bool | Callable[["ClientResponse"], Any]

Sleep = Callable[[float], Awaitable[Any]]

#: Performs try ``attempt`` within ``budget`` seconds (``None``: no limit).
Send = Callable[[int, "float | None"], Awaitable["ClientResponse"]]

#: The method and headers of try ``attempt``.
Describe = Callable[[int], "tuple[str, Mapping[str, Any] | None]"]

#: The event-loop clock reading by which the request being served must be answered.
#: Set by :func:`aiohttp_retry.server.deadline_middleware`; calls made meanwhile inherit it.
inbound_deadline: ContextVar[float | None] = ContextVar("aiohttp_retry_inbound_deadline", default=None)


def _debug_enabled(logger: LoggerLike) -> bool:
    is_enabled = getattr(logger, "isEnabledFor", None)
    return True if is_enabled is None else bool(is_enabled(logging.DEBUG))


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _has_header(headers: Mapping[str, Any] | None, name: str | None) -> bool:
    if not headers or name is None:
        return False
    if name in headers:  # case-insensitive for aiohttp's multidicts
        return True
    lower = name.lower()
    return any(key.lower() == lower for key in headers)


async def _check_final(response: ClientResponse, raise_for_status: RaiseForStatus) -> None:
    if raise_for_status is True:
        response.raise_for_status()  # aiohttp releases the response before raising
        return
    try:
        await _maybe_await(raise_for_status(response))  # type: ignore[operator]
    except BaseException:
        response.release()
        raise


async def _send_within(send: Send, attempt: int, budget: float) -> ClientResponse:
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(budget):
            return await send(attempt, budget)
    return await asyncio.wait_for(send(attempt, budget), budget)  # pragma: no cover - Python 3.10


async def _wants_retry(response: ClientResponse, options: RetryOptionsBase) -> bool:
    callback = options.evaluate_response_callback
    allowed = response.method in options.methods or _has_header(
        response.request_info.headers, options.idempotency_header
    )
    verdict = response_verdict(
        response.status,
        allowed,
        statuses=options.statuses,
        retry_server_errors=options.retry_all_server_errors,
        has_callback=callback is not None,
    )
    if verdict is Verdict.ASK:
        return not await _maybe_await(callback(response))  # type: ignore[misc]
    return verdict is Verdict.RETRY


def _retries_exception(
    exc: Exception, request: tuple[str, Mapping[str, Any] | None], options: RetryOptionsBase
) -> bool:
    method, headers = request
    return exception_is_retryable(
        exc,
        method.upper(),
        keyed=_has_header(headers, options.idempotency_header),
        exceptions=options._exception_tuple,  # noqa: SLF001
        methods=options.methods,
        network_errors=options.retry_network_errors,
    )


def _next_wait(
    options: RetryOptionsBase,
    attempt: int,
    response: ClientResponse | None,
    status: int,
    headers: Mapping[str, str] | None,
    previous: float | None,
    now: float,
    expires: float,
    took: float,
) -> float | None:
    """The wait before try ``attempt + 1``, or ``None`` when the call must end with this outcome."""
    delay = options.next_delay(attempt - 1, response, previous)
    if not 0 <= delay < math.inf:
        msg = f"{type(options).__name__}.get_timeout returned {delay!r}; a wait must be a finite number >= 0"
        raise ValueError(msg)
    retry_after = options.retry_after
    if retry_after is not None and headers is not None:
        wait = retry_after.apply(delay, status, headers.get(hdrs.RETRY_AFTER), time.time())
        if wait is None:
            return None
        delay = wait
    return delay if fits_before(delay, now, expires, took) else None


async def execute(  # noqa: C901, PLR0912, PLR0915 - the one attempt loop; its branches are the contract
    send: Send,
    describe: Describe,
    options: RetryOptionsBase,
    *,
    raise_for_status: RaiseForStatus = False,
    logger: LoggerLike,
    sleep: Sleep = asyncio.sleep,
    why_not_resend: Callable[[int], str | None] | None = None,
) -> ClientResponse:
    """Send tries until one is final, then return its response or raise its exception.

    A response is final on the last try, when its request may not be retried,
    when neither its status nor the options' response callback asks for a
    retry, or when the next wait would break the deadline or exceed the
    accepted ``Retry-After``. An exception ends the call unless the options
    retry it and the wait fits. ``why_not_resend()`` tells, before each retry,
    why the request cannot be sent again (a consumed one-shot body), if so.
    """
    attempts = options.attempts  # later changes to the options do not affect a running call
    debug = _debug_enabled(logger)
    limits = options.time_limits
    inherited = inbound_deadline.get()
    clock = asyncio.get_running_loop().time if limits.total or limits.attempt or inherited is not None else None
    expires = limits.expiry(clock(), inherited) if clock else math.inf
    previous: float | None = None
    attempt = 1
    while True:
        if debug:
            logger.debug("Attempt %d out of %d", attempt, attempts)
        started = clock() if clock else 0.0
        budget = attempt_budget(limits.attempt, started, expires) if clock else None
        response: ClientResponse | None = None
        try:
            response = await (send(attempt, None) if budget is None else _send_within(send, attempt, budget))
            wait = None
            if attempt < attempts and await _wants_retry(response, options):
                now = clock() if clock else 0.0
                wait = _next_wait(
                    options, attempt, response, response.status, response.headers, previous, now, expires, now - started
                )
            if wait is None:
                if raise_for_status:
                    await _check_final(response, raise_for_status)
                return response
            if debug:
                logger.debug("Retrying after response code: %s", response.status)
            reason = why_not_resend(attempt + 1) if why_not_resend else None
            if reason:
                raise BodyNotReplayableError(reason, response.status)  # noqa: TRY301 - released below
        except BodyNotReplayableError:
            if response is not None:
                response.release()
            raise
        except Exception as exc:
            if response is not None:
                response.release()
            if attempt >= attempts or not _retries_exception(exc, describe(attempt), options):
                raise
            status, headers = (exc.status, exc.headers) if isinstance(exc, ClientResponseError) else (0, None)
            now = clock() if clock else 0.0
            wait = _next_wait(options, attempt, None, status, headers, previous, now, expires, now - started)
            if wait is None:
                raise
            if debug:
                logger.debug("Retrying after exception: %r", exc)
            reason = why_not_resend(attempt + 1) if why_not_resend else None
            if reason:
                raise BodyNotReplayableError(reason) from exc
        except BaseException:
            if response is not None:
                response.release()
            raise
        else:
            response.release()
        await sleep(wait)
        previous = wait
        attempt += 1
