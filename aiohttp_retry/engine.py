"""The attempt loop: the one place where tries are sent, judged, released and spaced.

Adapters hand the loop a ``send(attempt)`` function that performs try number
``attempt`` (1-based) and returns its response. The loop knows nothing of how
that function reaches the network.

Contract: every response that is not handed back to the caller is released
before the next try starts or the call ends, cancellation included.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp_retry.policy.classify import NETWORK_ERRORS, Verdict, exception_is_retryable, response_verdict

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from aiohttp_retry.retry_options import RetryOptionsBase

__all__ = ["LoggerLike", "RaiseForStatus", "Sleep", "execute"]


class LoggerLike(Protocol):
    """Any object with the three logging methods the library calls."""

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102
    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None: ...  # noqa: D102


#: ``True`` to call ``response.raise_for_status()`` on the final response, or a
#: function (sync or async) called with it that raises to reject it.
RaiseForStatus = bool | Callable[["ClientResponse"], Any]

Sleep = Callable[[float], Awaitable[Any]]

_NO_NETWORK_ERRORS: tuple[type[BaseException], ...] = ()


def _debug_enabled(logger: LoggerLike) -> bool:
    is_enabled = getattr(logger, "isEnabledFor", None)
    return True if is_enabled is None else bool(is_enabled(logging.DEBUG))


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _check_final(response: ClientResponse, raise_for_status: RaiseForStatus) -> None:
    if raise_for_status is True:
        response.raise_for_status()  # aiohttp releases the response before raising
        return
    try:
        await _maybe_await(raise_for_status(response))  # type: ignore[operator]
    except BaseException:
        response.release()
        raise


async def _wants_retry(response: ClientResponse, options: RetryOptionsBase) -> bool:
    callback = options.evaluate_response_callback
    verdict = response_verdict(
        response.status,
        response.method,
        statuses=options.statuses,
        methods=options.methods,
        retry_server_errors=options.retry_all_server_errors,
        has_callback=callback is not None,
    )
    if verdict is Verdict.ASK:
        return not await _maybe_await(callback(response))  # type: ignore[misc]
    return verdict is Verdict.RETRY


def _retries_exception(exc: Exception, method: str, options: RetryOptionsBase) -> bool:
    return exception_is_retryable(
        exc,
        method.upper(),
        exceptions=options._exception_tuple,  # noqa: SLF001
        methods=options.methods,
        network_errors=NETWORK_ERRORS if options.retry_network_errors else _NO_NETWORK_ERRORS,
    )


def _checked_delay(delay: float, options: RetryOptionsBase) -> float:
    if not 0 <= delay < math.inf:
        msg = f"{type(options).__name__}.get_timeout returned {delay!r}; a wait must be a finite number >= 0"
        raise ValueError(msg)
    return delay


async def execute(  # noqa: C901 - the one attempt loop; its branches are the contract
    send: Callable[[int], Awaitable[ClientResponse]],
    method_of: Callable[[int], str],
    options: RetryOptionsBase,
    *,
    raise_for_status: RaiseForStatus = False,
    logger: LoggerLike,
    sleep: Sleep = asyncio.sleep,
) -> ClientResponse:
    """Send tries until one is final, then return its response or raise its exception.

    A response is final on the last try, when its method may not be retried,
    or when neither its status nor the options' response callback asks for a
    retry. An exception ends the call unless the options retry it.
    """
    attempts = options.attempts  # later changes to the options do not affect a running call
    debug = _debug_enabled(logger)
    attempt = 1
    while True:
        if debug:
            logger.debug("Attempt %d out of %d", attempt, attempts)
        response: ClientResponse | None = None
        try:
            response = await send(attempt)
            if attempt >= attempts or not await _wants_retry(response, options):
                if raise_for_status:
                    await _check_final(response, raise_for_status)
                return response
            delay = options.get_timeout(attempt - 1, response)
            if debug:
                logger.debug("Retrying after response code: %s", response.status)
        except Exception as exc:
            if response is not None:
                response.release()
            if attempt >= attempts or not _retries_exception(exc, method_of(attempt), options):
                raise
            delay = options.get_timeout(attempt - 1, None)
            if debug:
                logger.debug("Retrying after exception: %r", exc)
        except BaseException:
            if response is not None:
                response.release()
            raise
        else:
            response.release()
        await sleep(_checked_delay(delay, options))
        attempt += 1
